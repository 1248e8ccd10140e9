using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Sluice.Server.Api;

/// <summary>
/// Error answers of the API, as RFC 9457 problem documents whose <c>detail</c> is one sentence saying what is wrong
/// and how to fix it (the CLI prints exactly that sentence).
/// </summary>
public static class SluiceProblems
{
    /// <summary>404: e.g. <c>NotFound("rollout", name, "list them with 'sluice get rollouts'")</c>.</summary>
    public static ProblemHttpResult NotFound(string kind, string name, string? hint = null) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Not found",
            detail: $"There is no {kind} '{name}'" + (hint is null ? "." : $"; {hint}."));

    /// <summary>400: the request itself is wrong.</summary>
    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: detail);

    /// <summary>409: the request is valid but conflicts with the current state (e.g. nothing to roll back to).</summary>
    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: detail);

    /// <summary>422: manifests that do not validate; <paramref name="problems"/> go into the <c>problems</c> extension.</summary>
    public static ProblemHttpResult Invalid(string detail, IReadOnlyList<ManifestProblemResource> problems) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status422UnprocessableEntity,
            title: "Invalid manifest",
            detail: detail,
            extensions: new Dictionary<string, object?> { ["problems"] = problems });

    /// <summary>502: the Dataflow API (or the emulator) failed.</summary>
    public static ProblemHttpResult RunnerError(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Runner error", detail: detail);
}
