using System.Text.Json.Nodes;
using NJsonSchema;
using Sluice.Manifests.Binding;
using Sluice.Manifests.Parsing;
using Sluice.Manifests.Values;

namespace Sluice.Manifests.Tests;

/// <summary>Keeps schemas/sluice-v1.schema.json in step with the parser: same fields, same rules, same verdicts.</summary>
public class SchemaTests
{
    private static readonly Task<JsonSchema> Schema = JsonSchema.FromFileAsync(TestPaths.Schema);

    private static readonly Lazy<JsonObject> SchemaJson = new(() => JsonNode.Parse(File.ReadAllText(TestPaths.Schema))!.AsObject());

    internal static async Task<IReadOnlyList<string>> SchemaErrorsAsync(string text, string path)
    {
        var schema = await Schema;
        var parsed = ManifestReader.Parse(text, path);
        Assert.Empty(parsed.Problems);
        return [.. parsed.Documents.SelectMany(document => schema.Validate(NodeJson.ToJson(document.Root!)).Select(error => error.ToString()))];
    }

    public static TheoryData<string> ExampleFiles => [.. Directory.GetFiles(TestPaths.Examples).Select(file => Path.GetFileName(file)).Order()];

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public async Task Every_example_validates_against_the_schema_and_the_parser(string file)
    {
        var path = Path.Combine(TestPaths.Examples, file);
        var text = File.ReadAllText(path);

        Assert.Empty(await SchemaErrorsAsync(text, path));
        Assert.True(ManifestReader.Read(text, path).IsValid);
    }

    public static TheoryData<InvalidManifestCorpusTests.Case> SchemaCases =>
        [.. InvalidManifestCorpusTests.Cases.Where(c => c.Schema)];

    [Theory]
    [MemberData(nameof(SchemaCases))]
    public async Task Invalid_documents_are_rejected_by_the_schema_too(InvalidManifestCorpusTests.Case testCase)
    {
        var text = MarkedText.Parse(testCase.Marked).Text;

        Assert.NotEmpty(await SchemaErrorsAsync(text, testCase.Path));
        Assert.False(ManifestReader.Read(text, testCase.Path).IsValid);
    }

    public static TheoryData<InvalidManifestCorpusTests.Case> ParserOnlyCases =>
        [.. InvalidManifestCorpusTests.Cases.Where(c => !c.Schema && ManifestReader.Parse(MarkedText.Parse(c.Marked).Text, c.Path).Problems.Count == 0)];

    /// <summary>
    /// The rules a JSON Schema cannot state (cross-field comparisons, cron ranges, time zones, slot rendering) are the
    /// parser's alone; the schema accepts these documents. This also shows the schema does not reject everything.
    /// </summary>
    [Theory]
    [MemberData(nameof(ParserOnlyCases))]
    public async Task Rules_only_the_parser_knows_pass_the_schema(InvalidManifestCorpusTests.Case testCase)
    {
        var text = MarkedText.Parse(testCase.Marked).Text;

        Assert.Empty(await SchemaErrorsAsync(text, testCase.Path));
        Assert.False(ManifestReader.Read(text, testCase.Path).IsValid);
    }

    [Fact]
    public void The_schema_covers_many_of_the_invalid_cases() =>
        Assert.True(InvalidManifestCorpusTests.Cases.Count(c => c.Schema) >= 60);

    public static TheoryData<string> FieldSets => [.. ManifestFields.All.Select(set => set.SchemaDefinition)];

    [Theory]
    [MemberData(nameof(FieldSets))]
    public void Schema_objects_have_exactly_the_fields_the_parser_knows(string definition)
    {
        var fields = ManifestFields.All.Single(set => set.SchemaDefinition == definition);
        var schemaObject = definition == "document" ? SchemaJson.Value : SchemaJson.Value["definitions"]![definition]!.AsObject();

        var properties = schemaObject["properties"]!.AsObject().Select(property => property.Key).Order(StringComparer.Ordinal);

        Assert.Equal(fields.Names.Order(StringComparer.Ordinal), properties);
        Assert.False(schemaObject["additionalProperties"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("definitions.environment.properties.tempLocation", Patterns.GcsPath)]
    [InlineData("definitions.environment.properties.workerRegion", Patterns.Region)]
    [InlineData("definitions.environment.properties.workerZone", Patterns.Zone)]
    [InlineData("definitions.environment.properties.machineType", Patterns.MachineType)]
    [InlineData("definitions.environment.properties.serviceAccountEmail", Patterns.Email)]
    [InlineData("definitions.environment.properties.subnetwork", Patterns.Subnetwork)]
    [InlineData("definitions.environment.properties.network", Patterns.Network)]
    [InlineData("definitions.environment.properties.kmsKeyName", Patterns.KmsKeyName)]
    [InlineData("definitions.environment.properties.sdkContainerImage", Patterns.ContainerImage)]
    [InlineData("definitions.versionSpec.properties.jobName", Patterns.JobName)]
    [InlineData("definitions.versionSpec.properties.version", Patterns.Version)]
    [InlineData("definitions.rolloutSpec.properties.pipeline", Patterns.PipelineName)]
    [InlineData("definitions.rolloutSpec.properties.project", Patterns.Project)]
    [InlineData("definitions.scheduleSpec.properties.dagId", Patterns.DagId)]
    [InlineData("definitions.metadata.properties.name", Patterns.MetadataName)]
    public void Schema_patterns_are_the_parser_patterns(string path, string pattern)
    {
        JsonNode node = SchemaJson.Value;
        foreach (var part in path.Split('.'))
        {
            node = node[part]!;
        }

        Assert.Equal(pattern, node["pattern"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{{ ds }}", true)]
    [InlineData("gs://b/{{ ds_nodash }}/{{ logical_date | utc | format('yyyy/MM/dd') }}", true)]
    [InlineData("{{ logical_date.strftime('%Y%m%d') }}", true)]
    [InlineData("a } b { c", true)]
    [InlineData("{{ ds_nodahs }}", false)]
    [InlineData("{{ ds | fromat('x') }}", false)]
    [InlineData("{{ ds", false)]
    public async Task Schema_macro_rule_agrees_with_the_parser(string value, bool valid)
    {
        var text = $$"""
            apiVersion: sluice/v1
            kind: Schedule
            metadata: { name: s }
            spec:
              dagId: d
              schedule: "@daily"
              startDate: 2026-01-01
              job:
                template: { gcsPath: gs://bucket/t }
                parameters: { p: "{{value.Replace("\"", "\\\"", StringComparison.Ordinal)}}" }
            """;

        Assert.Equal(valid, (await SchemaErrorsAsync(text, "s.yaml")).Count == 0);
        Assert.Equal(valid, ManifestReader.Read(text, "s.yaml").IsValid);
    }
}
