using System.Text.Json;

namespace Sluice.Dataflow;

/// <summary>
/// The error body of Google's REST APIs:
/// <c>{"error":{"code","message","status","details":[…],"errors":[{"message","domain","reason"}]}}</c>.
/// </summary>
public sealed class GoogleErrorResponse
{
    public GoogleError? Error { get; set; }
}

public sealed class GoogleError
{
    public int Code { get; set; }
    public string? Message { get; set; }
    public string? Status { get; set; }
    public List<JsonElement>? Details { get; set; }
    public List<GoogleErrorItem>? Errors { get; set; }
}

public sealed class GoogleErrorItem
{
    public string? Message { get; set; }
    public string? Domain { get; set; }
    public string? Reason { get; set; }
}

/// <summary>One parameter a template launch refused (details type <c>google.dataflow.v1beta3.InvalidTemplateParameters</c>).</summary>
public sealed record ParameterViolation(string Parameter, string Description);

/// <summary>The <c>@type</c> names of error details Sluice reads and the emulator writes.</summary>
public static class GoogleErrorDetailTypes
{
    public const string InvalidTemplateParameters = "type.googleapis.com/google.dataflow.v1beta3.InvalidTemplateParameters";
    public const string ErrorInfo = "type.googleapis.com/google.rpc.ErrorInfo";
    public const string BadRequest = "type.googleapis.com/google.rpc.BadRequest";
}
