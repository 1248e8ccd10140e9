using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sluice.Dataflow;

namespace Sluice.Emulator;

/// <summary>Embeds the emulator in an ASP.NET Core host (<c>sluice up</c>) or runs it standalone (<see cref="EmulatorHost"/>).</summary>
public static class EmulatorEndpoints
{
    /// <summary>The location used by the location-less paths (<c>v1b3/projects/{projectId}/jobs</c>), as on Google Cloud.</summary>
    public const string DefaultLocation = "us-central1";

    public static IServiceCollection AddDataflowEmulator(this IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(provider => new DataflowEmulator(options,
            provider.GetService<TimeProvider>() ?? TimeProvider.System,
            provider.GetRequiredService<ILogger<DataflowEmulator>>()));
        services.AddHostedService(provider => provider.GetRequiredService<DataflowEmulator>());
        return services;
    }

    /// <summary>Maps Dataflow's REST paths (<c>/v1b3/projects/…</c>) onto the emulator.</summary>
    public static IEndpointRouteBuilder MapDataflowEmulator(this IEndpointRouteBuilder endpoints)
    {
        foreach (var prefix in new[] { "/v1b3/projects/{projectId}/locations/{location}", "/v1b3/projects/{projectId}" })
        {
            var group = endpoints.MapGroup(prefix);
            group.MapPost("/templates:launch", (HttpContext http, DataflowEmulator emulator) => HandleAsync(http, async () =>
            {
                var body = await ReadBodyAsync<LaunchTemplateParameters>(http);
                return emulator.LaunchClassic(ProjectId(http), Location(http), Query(http, "gcsPath"), QueryBool(http, "validateOnly"), body);
            }));
            group.MapPost("/flexTemplates:launch", (HttpContext http, DataflowEmulator emulator) => HandleAsync(http, async () =>
            {
                var raw = await ReadBodyAsync<JsonObject>(http);
                var body = Deserialize<LaunchFlexTemplateRequest>(raw);
                var containerSpec = raw["launchParameter"]?["containerSpec"] as JsonObject;
                return emulator.LaunchFlex(ProjectId(http), Location(http), body, containerSpec);
            }));
            group.MapGet("/templates:get", (HttpContext http, DataflowEmulator emulator) =>
                HandleAsync(http, () => Task.FromResult<object>(emulator.GetTemplate(Query(http, "gcsPath")))));
            group.MapGet("/jobs", (HttpContext http, DataflowEmulator emulator) => HandleAsync(http, () => Task.FromResult<object>(
                emulator.ListJobs(ProjectId(http), Location(http), QueryEnum(http, "filter", JobListFilter.Unknown), Query(http, "name"),
                    QueryInt(http, "pageSize"), Query(http, "pageToken")))));
            group.MapGet("/jobs/{jobId}", (HttpContext http, string jobId, DataflowEmulator emulator) => HandleAsync(http, () =>
                Task.FromResult<object>(emulator.GetJob(ProjectId(http), Location(http), jobId, QueryEnum(http, "view", JobView.Summary)))));
            group.MapPut("/jobs/{jobId}", (HttpContext http, string jobId, DataflowEmulator emulator) => HandleAsync(http, async () =>
            {
                var body = await ReadBodyAsync<Job>(http);
                return emulator.UpdateJob(ProjectId(http), Location(http), jobId, body, Query(http, "updateMask"));
            }));
            group.MapGet("/jobs/{jobId}/messages", (HttpContext http, string jobId, DataflowEmulator emulator) => HandleAsync(http, () =>
                Task.FromResult<object>(emulator.ListMessages(ProjectId(http), Location(http), jobId,
                    Query(http, "minimumImportance") is null ? null : QueryEnum(http, "minimumImportance", JobMessageImportance.Unknown),
                    QueryTime(http, "startTime"), QueryTime(http, "endTime"), QueryInt(http, "pageSize"), Query(http, "pageToken")))));
            group.MapGet("/jobs/{jobId}/metrics", (HttpContext http, string jobId, DataflowEmulator emulator) => HandleAsync(http, () =>
                Task.FromResult<object>(emulator.GetMetrics(ProjectId(http), Location(http), jobId, QueryTime(http, "startTime")))));
        }

        // Anything else under /v1b3 answers in Google's error format rather than with an empty 404.
        endpoints.Map("/v1b3/{**rest}", (HttpContext http) => WriteErrorAsync(http,
            EmulatorException.NotFound($"The emulator serves no method at {http.Request.Method} {http.Request.Path}; see docs/emulator.md for the supported methods.")));
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext http, Func<Task<object>> handler)
    {
        try
        {
            var result = await handler();
            http.Response.StatusCode = StatusCodes.Status200OK;
            await http.Response.WriteAsJsonAsync(result, result.GetType(), DataflowJson.Options, http.RequestAborted);
        }
        catch (EmulatorException ex)
        {
            await WriteErrorAsync(http, ex);
        }
    }

    private static Task WriteErrorAsync(HttpContext http, EmulatorException error)
    {
        http.Response.StatusCode = error.StatusCode;
        http.Response.ContentType = "application/json; charset=UTF-8";
        return http.Response.WriteAsync(error.ToJson().ToJsonString(), http.RequestAborted);
    }

    private static async Task<T> ReadBodyAsync<T>(HttpContext http)
        where T : class
    {
        try
        {
            var node = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            if (node is null)
            {
                throw EmulatorException.InvalidArgument("The request body is empty; send a JSON object.");
            }

            return node is T typed ? typed : Deserialize<T>(node);
        }
        catch (JsonException ex)
        {
            throw EmulatorException.InvalidArgument($"Invalid JSON payload received. {ex.Message}");
        }
    }

    private static T Deserialize<T>(JsonNode node)
        where T : class
    {
        try
        {
            return node.Deserialize<T>(DataflowJson.Options) ?? throw EmulatorException.InvalidArgument("The request body is empty; send a JSON object.");
        }
        catch (JsonException ex)
        {
            throw EmulatorException.InvalidArgument($"Invalid JSON payload received. {ex.Message}");
        }
    }

    private static string ProjectId(HttpContext http) => (string)http.Request.RouteValues["projectId"]!;

    private static string Location(HttpContext http) => http.Request.RouteValues["location"] as string ?? DefaultLocation;

    private static string? Query(HttpContext http, string name) =>
        http.Request.Query.TryGetValue(name, out var values) && !string.IsNullOrEmpty(values.ToString()) ? values.ToString() : null;

    private static bool QueryBool(HttpContext http, string name) =>
        Query(http, name) is { } text && (text == "true" || text == "1");

    private static int? QueryInt(HttpContext http, string name)
    {
        var text = Query(http, name);
        if (text is null)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw EmulatorException.InvalidArgument($"Query parameter {name}='{text}' is not an integer.");
    }

    private static TEnum QueryEnum<TEnum>(HttpContext http, string name, TEnum fallback)
        where TEnum : struct, Enum
    {
        var text = Query(http, name);
        if (text is null)
        {
            return fallback;
        }

        return WireNames.TryParse<TEnum>(text, out var value)
            ? value
            : throw EmulatorException.InvalidArgument($"Query parameter {name}='{text}' is not a valid value.");
    }

    private static DateTimeOffset? QueryTime(HttpContext http, string name)
    {
        var text = Query(http, name);
        if (text is null)
        {
            return null;
        }

        return GoogleTimestampConverter.Parse(text)
            ?? throw EmulatorException.InvalidArgument($"Query parameter {name}='{text}' is not an RFC 3339 timestamp such as 2026-04-13T10:00:00Z.");
    }
}
