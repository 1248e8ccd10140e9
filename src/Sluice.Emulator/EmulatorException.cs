using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Sluice.Dataflow;

namespace Sluice.Emulator;

/// <summary>An answer in Google's error format; thrown inside the emulator and written by the endpoints.</summary>
internal sealed class EmulatorException : Exception
{
    public EmulatorException(int statusCode, string status, string message, JsonArray? details = null)
        : base(message)
    {
        StatusCode = statusCode;
        Status = status;
        Details = details;
        Tag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    }

    public EmulatorException()
        : this(500, "INTERNAL", "Internal error.")
    {
    }

    public EmulatorException(string message)
        : this(500, "INTERNAL", message)
    {
    }

    public EmulatorException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = 500;
        Status = "INTERNAL";
        Tag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    }

    public int StatusCode { get; }

    public string Status { get; }

    public JsonArray? Details { get; }

    /// <summary>Dataflow prefixes messages with a 16-hex-digit tag, e.g. <c>(78f666ea16e50f79): </c>.</summary>
    public string Tag { get; }

    public JsonObject ToJson()
    {
        var text = $"({Tag}): {Message}";
        var error = new JsonObject
        {
            ["code"] = StatusCode,
            ["message"] = text,
            ["status"] = Status,
        };
        if (Details is not null)
        {
            error["details"] = JsonNode.Parse(Details.ToJsonString());
        }

        error["errors"] = new JsonArray(new JsonObject
        {
            ["message"] = text,
            ["domain"] = "global",
            ["reason"] = ReasonFor(StatusCode),
        });
        return new JsonObject { ["error"] = error };
    }

    public static EmulatorException InvalidArgument(string message) => new(400, "INVALID_ARGUMENT", message);

    public static EmulatorException FailedPrecondition(string message) => new(400, "FAILED_PRECONDITION", message);

    public static EmulatorException NotFound(string message) => new(404, "NOT_FOUND", message);

    public static EmulatorException AlreadyExists(string message) => new(409, "ALREADY_EXISTS", message);

    public static EmulatorException InvalidTemplateParameters(IReadOnlyList<ParameterViolation> violations)
    {
        var list = new JsonArray();
        foreach (var violation in violations)
        {
            list.Add(new JsonObject { ["parameter"] = violation.Parameter, ["description"] = violation.Description });
        }

        var details = new JsonArray(new JsonObject
        {
            ["@type"] = GoogleErrorDetailTypes.InvalidTemplateParameters,
            ["parameterViolations"] = list,
        });
        var summary = string.Join("; ", violations.Select(violation => $"{violation.Parameter}: {violation.Description}"));
        return new EmulatorException(400, "INVALID_ARGUMENT", $"The template parameters are invalid. {summary}", details);
    }

    private static string ReasonFor(int statusCode) => statusCode switch
    {
        400 => "badRequest",
        403 => "forbidden",
        404 => "notFound",
        409 => "conflict",
        429 => "rateLimitExceeded",
        503 => "backendError",
        _ => "internalError",
    };
}
