using System.Net;

namespace Sluice.Cli.Client;

/// <summary>A failed API call, with the server's one-sentence explanation. StatusCode is null when the server could not be reached.</summary>
public sealed class SluiceApiException : Exception
{
    public SluiceApiException(HttpStatusCode? statusCode, string message, IReadOnlyList<string>? problems = null, Exception? inner = null)
        : base(message, inner)
    {
        StatusCode = statusCode;
        Problems = problems ?? [];
    }

    public SluiceApiException()
        : this(null, "The Sluice API call failed.")
    {
    }

    public SluiceApiException(string message)
        : this(null, message)
    {
    }

    public SluiceApiException(string message, Exception innerException)
        : this(null, message, null, innerException)
    {
    }

    public HttpStatusCode? StatusCode { get; }

    /// <summary>Manifest problems (<c>PATH:LINE:COL: error: FIELD: message</c>) of a 422 answer.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>The exit code this failure means (see <see cref="ExitCodes"/>).</summary>
    public int ExitCode => StatusCode switch
    {
        null or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.ServiceUnavailable => ExitCodes.Unavailable,
        _ => ExitCodes.Failed,
    };
}
