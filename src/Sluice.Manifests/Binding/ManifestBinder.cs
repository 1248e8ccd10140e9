using Sluice.Manifests.Parsing;
using Sluice.Manifests.Values;

namespace Sluice.Manifests.Binding;

/// <summary>Turns one parsed document into a <see cref="Manifest"/>, reporting every problem found on the way.</summary>
internal static class ManifestBinder
{
    private static readonly Dictionary<string, ManifestKind> Kinds = new(StringComparer.Ordinal)
    {
        ["Rollout"] = ManifestKind.Rollout,
        ["Schedule"] = ManifestKind.Schedule,
        ["Unschedule"] = ManifestKind.Unschedule,
    };

    public static Manifest? Bind(BindContext context, ParsedDocument document)
    {
        var before = context.Problems.Count;
        if (document.Root is not MappingNode)
        {
            context.Error(document.Root?.Start ?? document.Start, string.Empty,
                $"a manifest must be an object with apiVersion, kind, metadata and spec, not {document.Root?.Describe() ?? "nothing"}");
            return null;
        }

        var reader = ObjectReader.Open(context, document.Root, string.Empty, ManifestFields.Document)!;
        var apiVersion = reader.String("apiVersion", required: true, example: Manifest.CurrentApiVersion);
        if (apiVersion is not null && apiVersion != Manifest.CurrentApiVersion)
        {
            reader.Error("apiVersion", $"'{ObjectReader.Shorten(apiVersion)}' is not a supported apiVersion", $"use apiVersion: {Manifest.CurrentApiVersion}");
        }

        var kind = reader.Enum("kind", Kinds);
        if (kind is null && !reader.Has("kind"))
        {
            reader.Missing("kind", "Rollout (or Schedule, Unschedule)");
        }

        var metadata = ReadMetadata(context, reader);
        var specNode = reader.Take("spec");
        reader.Finish();
        if (specNode is null)
        {
            reader.Missing("spec", kind switch
            {
                ManifestKind.Schedule => "{ dagId: …, schedule: \"@daily\", … }",
                ManifestKind.Unschedule => "{ dagId: … }",
                _ => "{ pipeline: …, to: { … } }",
            });
        }

        Manifest? manifest = null;
        if (kind is not null && specNode is not null)
        {
            var source = new ManifestSource(context.Path, document.Start.Line, document.Index);
            manifest = kind switch
            {
                ManifestKind.Rollout => RolloutBinder.Bind(context, specNode, metadata, source),
                ManifestKind.Schedule => ScheduleBinder.Bind(context, specNode, metadata, source),
                _ => UnscheduleBinder.Bind(context, specNode, metadata, source),
            };
        }

        return context.Problems.Count == before ? manifest : null;
    }

    private static ManifestMetadata? ReadMetadata(BindContext context, ObjectReader document)
    {
        var node = document.Take("metadata");
        if (node is null)
        {
            document.Missing("metadata", "{ name: my-rollout }");
            return null;
        }

        var reader = ObjectReader.Open(context, node, "metadata", ManifestFields.Metadata);
        if (reader is null)
        {
            return null;
        }

        var name = reader.Pattern("name", Patterns.MetadataName,
            "names are 1 to 253 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit",
            required: true, example: "clickstream-v42");
        var labels = reader.StringMap(
            "labels",
            checkKey: key => EnvironmentBinder.LabelKeyError(key, reservedPrefix: false),
            checkValue: EnvironmentBinder.LabelValueError,
            lenientValues: false,
            maxEntries: 64);
        reader.Finish();
        return name is null ? null : new ManifestMetadata(name, labels ?? new Dictionary<string, string>());
    }

    /// <summary>Template references are the same in rollouts and schedules.</summary>
    public static TemplateRef? ReadTemplate(BindContext context, ObjectReader parent)
    {
        var node = parent.Take("template");
        if (node is null)
        {
            parent.Missing("template", "{ kind: classic, gcsPath: gs://my-bucket/templates/my-job }");
            return null;
        }

        var reader = ObjectReader.Open(context, node, parent.FieldPath("template"), ManifestFields.Template);
        if (reader is null)
        {
            return null;
        }

        var kind = reader.Enum("kind", TemplateKinds) ?? (reader.Has("kind") ? null : TemplateKind.Classic);
        var path = reader.Pattern("gcsPath", Patterns.GcsPath, "a template path is gs://BUCKET/PATH, where BUCKET is 3 to 63 lowercase letters, digits, '-', '_' or '.'", required: true, example: "gs://my-bucket/templates/my-job");
        reader.Finish();
        if (path is not null && path.EndsWith('/'))
        {
            reader.Error("gcsPath", "names a folder; a template path names the template file", "remove the trailing '/'");
            return null;
        }

        return kind is null || path is null ? null : new TemplateRef(kind.Value, path);
    }

    public static readonly IReadOnlyDictionary<string, TemplateKind> TemplateKinds = new Dictionary<string, TemplateKind>(StringComparer.Ordinal)
    {
        ["classic"] = TemplateKind.Classic,
        ["flex"] = TemplateKind.Flex,
    };

    /// <summary>Pipeline parameters: names as Dataflow accepts them, values as text.</summary>
    public static Dictionary<string, string>? ReadParameters(ObjectReader reader, Func<string, string?>? checkValue) =>
        reader.StringMap(
            "parameters",
            checkKey: key => Patterns.Matches(key, Patterns.ParameterName)
                ? null
                : $"the parameter name '{ObjectReader.Shorten(key)}' is not valid: names start with a letter or '_' and use letters, digits, '_', '.' or '-'",
            checkValue: checkValue);

    public static string? ReadProject(ObjectReader reader) =>
        reader.Pattern("project", Patterns.Project, "a Google Cloud project id is 6 to 30 lowercase letters, digits or '-', starting with a letter", example: "my-project");

    public static string? ReadRegion(ObjectReader reader) =>
        reader.Pattern("region", Patterns.Region, "a Dataflow region looks like us-central1", example: "us-central1");
}
