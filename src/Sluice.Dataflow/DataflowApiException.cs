using System.Net;
using System.Text.Json;

namespace Sluice.Dataflow;

/// <summary>
/// Dataflow refused a request (or could not be reached after all retries). Carries Google's error fields so that
/// callers can decide on structure, not on message text.
/// </summary>
public sealed class DataflowApiException : Exception
{
    public DataflowApiException(int statusCode, string? status, string? reason, string message,
        IReadOnlyList<ParameterViolation>? violations = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        Status = status;
        Reason = reason;
        Violations = violations ?? [];
    }

    public DataflowApiException()
        : this(0, null, null, "Dataflow refused the request.")
    {
    }

    public DataflowApiException(string message)
        : this(0, null, null, message)
    {
    }

    public DataflowApiException(string message, Exception innerException)
        : this(0, null, null, message, null, innerException)
    {
    }

    /// <summary>HTTP status code of the answer; 0 when no answer arrived (connection refused or reset).</summary>
    public int StatusCode { get; }

    /// <summary>Google's canonical status, e.g. <c>ALREADY_EXISTS</c>, <c>INVALID_ARGUMENT</c>.</summary>
    public string? Status { get; }

    /// <summary>The reason of the first entry of <c>errors[]</c> or of an <c>ErrorInfo</c> detail, when present.</summary>
    public string? Reason { get; }

    /// <summary>Template parameters the launch refused, from an <c>InvalidTemplateParameters</c> detail.</summary>
    public IReadOnlyList<ParameterViolation> Violations { get; }

    /// <summary>True for answers worth retrying: 429, 500, 502, 503, 504 and no answer at all.</summary>
    public bool IsTransient => IsTransientStatus(StatusCode);

    public bool IsNotFound => StatusCode == (int)HttpStatusCode.NotFound;

    public bool IsAlreadyExists => StatusCode == (int)HttpStatusCode.Conflict || Status == "ALREADY_EXISTS";

    /// <summary>The job was already in a terminal state, so it cannot be cancelled or drained.</summary>
    public bool IsJobTerminated => Message.Contains("has terminated", StringComparison.OrdinalIgnoreCase);

    internal static bool IsTransientStatus(int statusCode) =>
        statusCode is 0 or 429 or 500 or 502 or 503 or 504;

    /// <summary>Builds the exception from an error answer; tolerates bodies that are not Google's JSON.</summary>
    public static DataflowApiException FromResponse(int statusCode, string? body)
    {
        GoogleError? error = null;
        if (!string.IsNullOrWhiteSpace(body))
        {
            try
            {
                error = JsonSerializer.Deserialize<GoogleErrorResponse>(body, DataflowJson.Options)?.Error;
            }
            catch (JsonException)
            {
                // Not Google's JSON (a proxy's HTML page, say): the status code and a snippet of the body remain.
            }
        }

        if (error is null)
        {
            var snippet = string.IsNullOrWhiteSpace(body) ? "no body" : Truncate(body.Trim(), 200);
            return new DataflowApiException(statusCode, null, null, $"Dataflow answered HTTP {statusCode} ({snippet}).");
        }

        var violations = new List<ParameterViolation>();
        string? reason = error.Errors?.FirstOrDefault(item => !string.IsNullOrEmpty(item.Reason))?.Reason;
        foreach (var detail in error.Details ?? [])
        {
            if (detail.ValueKind != JsonValueKind.Object || !detail.TryGetProperty("@type", out var type))
            {
                continue;
            }

            var typeName = type.GetString();
            if (typeName == GoogleErrorDetailTypes.InvalidTemplateParameters
                && detail.TryGetProperty("parameterViolations", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var violation in list.EnumerateArray())
                {
                    violations.Add(new ParameterViolation(
                        GetString(violation, "parameter") ?? "",
                        GetString(violation, "description") ?? ""));
                }
            }
            else if (typeName == GoogleErrorDetailTypes.ErrorInfo && reason is null)
            {
                reason = GetString(detail, "reason");
            }
        }

        var message = string.IsNullOrWhiteSpace(error.Message) ? $"Dataflow answered HTTP {statusCode}." : error.Message;
        return new DataflowApiException(statusCode == 0 ? error.Code : statusCode, error.Status, reason, message, violations);
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";
}
