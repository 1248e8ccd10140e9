using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sluice.Dataflow;

/// <summary>Answer of templates.get (schema <c>GetTemplateResponse</c>).</summary>
public sealed class GetTemplateResponse
{
    public TemplateMetadata? Metadata { get; set; }
    public RuntimeMetadata? RuntimeMetadata { get; set; }
    public Status? Status { get; set; }
    public TemplateType? TemplateType { get; set; }
}

[JsonConverter(typeof(WireEnumConverter<TemplateType>))]
public enum TemplateType
{
    [JsonStringEnumMemberName("UNKNOWN")] Unknown = 0,
    [JsonStringEnumMemberName("LEGACY")] Legacy,
    [JsonStringEnumMemberName("FLEX")] Flex,
}

/// <summary>Schema <c>TemplateMetadata</c>: also the content of a classic template's <c>NAME_metadata</c> file.</summary>
public sealed class TemplateMetadata
{
    public string? Name { get; set; }
    public string? Description { get; set; }
    public bool? Streaming { get; set; }
    public bool? SupportsAtLeastOnce { get; set; }
    public bool? SupportsExactlyOnce { get; set; }
    public string? DefaultStreamingMode { get; set; }
    public List<ParameterMetadata>? Parameters { get; set; }
}

/// <summary>Schema <c>ParameterMetadata</c>.</summary>
public sealed class ParameterMetadata
{
    public string? Name { get; set; }
    public string? Label { get; set; }
    public string? HelpText { get; set; }
    public bool? IsOptional { get; set; }
    public List<string>? Regexes { get; set; }
    public string? ParamType { get; set; }
    public string? DefaultValue { get; set; }
    public Dictionary<string, string>? CustomMetadata { get; set; }
    public string? GroupName { get; set; }
    public string? ParentName { get; set; }
    public List<string>? ParentTriggerValues { get; set; }
    public List<ParameterMetadataEnumOption>? EnumOptions { get; set; }
    public bool? HiddenUi { get; set; }
}

/// <summary>Schema <c>ParameterMetadataEnumOption</c>.</summary>
public sealed class ParameterMetadataEnumOption
{
    public string? Value { get; set; }
    public string? Label { get; set; }
    public string? Description { get; set; }
}

/// <summary>Schema <c>RuntimeMetadata</c>.</summary>
public sealed class RuntimeMetadata
{
    public SdkInfo? SdkInfo { get; set; }
    public List<ParameterMetadata>? Parameters { get; set; }
}

/// <summary>Schema <c>SDKInfo</c>.</summary>
public sealed class SdkInfo
{
    public string? Language { get; set; }
    public string? Version { get; set; }
}

/// <summary>Schema <c>ContainerSpec</c>: the content of a flex template spec file.</summary>
public sealed class ContainerSpec
{
    public string? Image { get; set; }
    public SdkInfo? SdkInfo { get; set; }
    public TemplateMetadata? Metadata { get; set; }
    public FlexTemplateRuntimeEnvironment? DefaultEnvironment { get; set; }
    public string? ImageRepositoryUsernameSecretId { get; set; }
    public string? ImageRepositoryPasswordSecretId { get; set; }
    public string? ImageRepositoryCertPath { get; set; }
}

/// <summary>Schema <c>Status</c> (google.rpc.Status).</summary>
public sealed class Status
{
    public int? Code { get; set; }
    public string? Message { get; set; }
    public List<JsonElement>? Details { get; set; }
}
