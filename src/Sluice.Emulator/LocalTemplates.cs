using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sluice.Dataflow;

namespace Sluice.Emulator;

/// <summary>How the emulator runs a template's job as a local process (the <c>sluiceLocal</c> object of a template).</summary>
public sealed class SluiceLocalSpec
{
    /// <summary>Program and arguments; <c>${SLUICE_HOME}</c> and <c>${TEMPLATE_DIR}</c> are substituted.</summary>
    public List<string>? Command { get; set; }

    /// <summary>The pipeline's transform names; an in-place update must map every one of them (see docs/emulator.md).</summary>
    public List<string>? Transforms { get; set; }

    /// <summary>Job type when the template has no metadata saying so.</summary>
    public bool? Streaming { get; set; }
}

/// <summary>A template as the emulator read it from the local buckets.</summary>
internal sealed record LocalTemplate(
    string GcsPath,
    TemplateType Type,
    TemplateMetadata? Metadata,
    SluiceLocalSpec Local,
    string TemplateDirectory,
    ContainerSpec? ContainerSpec)
{
    public bool IsStreaming => Metadata?.Streaming ?? Local.Streaming ?? false;
}

internal static class LocalTemplates
{
    /// <summary>A classic template: the template file at the path and its metadata at <c>PATH_metadata</c> (optional).</summary>
    public static LocalTemplate LoadClassic(string bucketsDirectory, string gcsPath)
    {
        var file = Resolve(bucketsDirectory, gcsPath);
        if (!File.Exists(file))
        {
            throw EmulatorException.InvalidArgument(
                $"Unable to open template file: {gcsPath} (looked for {file}). Upload the template there, or fix gcsPath.");
        }

        var root = ReadObject(file, gcsPath);
        var local = ReadLocalSpec(root, gcsPath);
        TemplateMetadata? metadata = null;
        var metadataFile = file + "_metadata";
        if (File.Exists(metadataFile))
        {
            metadata = Deserialize<TemplateMetadata>(ReadObject(metadataFile, gcsPath + "_metadata"), gcsPath + "_metadata");
        }

        return new LocalTemplate(gcsPath, TemplateType.Legacy, metadata, local, Path.GetDirectoryName(file)!, null);
    }

    /// <summary>A flex template spec file (<c>containerSpecGcsPath</c>).</summary>
    public static LocalTemplate LoadFlex(string bucketsDirectory, string gcsPath)
    {
        var file = Resolve(bucketsDirectory, gcsPath);
        if (!File.Exists(file))
        {
            throw EmulatorException.InvalidArgument(
                $"Unable to read the flex template spec file {gcsPath} (looked for {file}). Upload the spec there, or fix containerSpecGcsPath.");
        }

        return FromContainerSpec(ReadObject(file, gcsPath), gcsPath, Path.GetDirectoryName(file)!);
    }

    /// <summary>A flex template given inline as <c>containerSpec</c>.</summary>
    public static LocalTemplate FromContainerSpec(JsonObject spec, string origin, string templateDirectory)
    {
        var containerSpec = Deserialize<ContainerSpec>(spec, origin);
        var local = ReadLocalSpec(spec, origin);
        return new LocalTemplate(origin, TemplateType.Flex, containerSpec.Metadata, local, templateDirectory, containerSpec);
    }

    /// <summary>Reads a template for templates.get: a file with <c>image</c> or <c>sdkInfo</c> is a flex spec, anything else classic.</summary>
    public static LocalTemplate LoadAny(string bucketsDirectory, string gcsPath)
    {
        var file = Resolve(bucketsDirectory, gcsPath);
        if (File.Exists(file) && ReadObject(file, gcsPath) is var root && (root.ContainsKey("image") || root.ContainsKey("sdkInfo")))
        {
            return LoadFlex(bucketsDirectory, gcsPath);
        }

        return LoadClassic(bucketsDirectory, gcsPath);
    }

    /// <summary>Checks parameters against the metadata: required, regexes, and (classic only) unknown names.</summary>
    public static IReadOnlyList<ParameterViolation> Validate(LocalTemplate template, IReadOnlyDictionary<string, string> parameters)
    {
        var violations = new List<ParameterViolation>();
        var declared = template.Metadata?.Parameters;
        if (declared is null)
        {
            return violations;
        }

        foreach (var parameter in declared)
        {
            if (string.IsNullOrEmpty(parameter.Name))
            {
                continue;
            }

            if (!parameters.TryGetValue(parameter.Name, out var value))
            {
                if (parameter.IsOptional != true)
                {
                    violations.Add(new ParameterViolation(parameter.Name, $"Missing required parameter {parameter.Name} ({parameter.Label ?? parameter.HelpText ?? "no description"})."));
                }

                continue;
            }

            foreach (var pattern in parameter.Regexes ?? [])
            {
                bool matches;
                try
                {
                    matches = Regex.IsMatch(value, "^(?:" + pattern + ")$", RegexOptions.None, TimeSpan.FromSeconds(1));
                }
                catch (ArgumentException)
                {
                    violations.Add(new ParameterViolation(parameter.Name, $"The template's regex '{pattern}' for {parameter.Name} is not a valid regular expression."));
                    continue;
                }

                if (!matches)
                {
                    violations.Add(new ParameterViolation(parameter.Name, $"The value '{value}' does not match the pattern {pattern}."));
                }
            }
        }

        if (template.Type == TemplateType.Legacy)
        {
            var known = declared.Select(parameter => parameter.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var name in parameters.Keys.Where(name => !known.Contains(name)).Order(StringComparer.Ordinal))
            {
                violations.Add(new ParameterViolation(name, $"Unrecognized parameter {name}; the template declares {string.Join(", ", known.Order(StringComparer.Ordinal))}."));
            }
        }

        return violations;
    }

    private static string Resolve(string bucketsDirectory, string gcsPath)
    {
        try
        {
            return BucketPaths.ToLocalPath(bucketsDirectory, gcsPath);
        }
        catch (ArgumentException ex)
        {
            throw EmulatorException.InvalidArgument(ex.Message);
        }
    }

    private static JsonObject ReadObject(string file, string gcsPath)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(file)) as JsonObject
                ?? throw EmulatorException.InvalidArgument($"Template file {gcsPath} is not a JSON object.");
        }
        catch (JsonException ex)
        {
            throw EmulatorException.InvalidArgument($"Template file {gcsPath} is not valid JSON: {ex.Message}");
        }
    }

    private static SluiceLocalSpec ReadLocalSpec(JsonObject root, string gcsPath)
    {
        var spec = root["sluiceLocal"] is JsonObject node ? Deserialize<SluiceLocalSpec>(node, gcsPath) : null;
        if (spec?.Command is not { Count: > 0 })
        {
            throw EmulatorException.FailedPrecondition(
                $"Template {gcsPath} has no sluiceLocal.command, so the local emulator cannot run it; add "
                + "\"sluiceLocal\": {\"command\": [\"program\", \"arg\"]} to the template (see docs/emulator.md).");
        }

        return spec;
    }

    private static T Deserialize<T>(JsonNode node, string origin)
    {
        try
        {
            return node.Deserialize<T>(DataflowJson.Options) ?? throw EmulatorException.InvalidArgument($"{origin} is empty.");
        }
        catch (JsonException ex)
        {
            throw EmulatorException.InvalidArgument($"{origin} does not have the expected shape: {ex.Message}");
        }
    }
}
