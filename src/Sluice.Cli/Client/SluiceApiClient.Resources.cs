using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Sluice.Server.Api;

namespace Sluice.Cli.Client;

/// <summary>The resources of docs/api.md.</summary>
public sealed partial class SluiceApiClient
{
    public async Task<ListResponse<PipelineResource>> ListPipelinesAsync(int? limit, CancellationToken cancellationToken) =>
        await GetAsync<ListResponse<PipelineResource>>(Query("v1/pipelines", ("limit", limit)), cancellationToken);

    public Task<PipelineResource> GetPipelineAsync(string name, CancellationToken cancellationToken) =>
        GetAsync<PipelineResource>($"v1/pipelines/{Segment(name)}", cancellationToken);

    public Task<RolloutResource> RollbackAsync(string pipeline, int? toRevision, CancellationToken cancellationToken) =>
        SendAsync<RolloutResource>(HttpMethod.Post, $"v1/pipelines/{Segment(pipeline)}/rollback", new RollbackRequest { ToRevision = toRevision }, cancellationToken);

    public Task<ListResponse<RolloutResource>> ListRolloutsAsync(string? pipeline, string? state, int? limit, CancellationToken cancellationToken) =>
        GetAsync<ListResponse<RolloutResource>>(Query("v1/rollouts", ("pipeline", pipeline), ("state", state), ("limit", limit)), cancellationToken);

    public Task<RolloutResource> GetRolloutAsync(string name, CancellationToken cancellationToken) =>
        GetAsync<RolloutResource>($"v1/rollouts/{Segment(name)}", cancellationToken);

    public Task<ListResponse<ScheduleResource>> ListSchedulesAsync(int? limit, CancellationToken cancellationToken) =>
        GetAsync<ListResponse<ScheduleResource>>(Query("v1/schedules", ("limit", limit)), cancellationToken);

    public Task<ScheduleResource> GetScheduleAsync(string dagId, int? slots, CancellationToken cancellationToken) =>
        GetAsync<ScheduleResource>(Query($"v1/schedules/{Segment(dagId)}", ("slots", slots)), cancellationToken);

    public Task<ScheduleResource> PauseAsync(string dagId, CancellationToken cancellationToken) =>
        SendAsync<ScheduleResource>(HttpMethod.Post, $"v1/schedules/{Segment(dagId)}/pause", new { }, cancellationToken);

    public Task<ScheduleResource> UnpauseAsync(string dagId, CancellationToken cancellationToken) =>
        SendAsync<ScheduleResource>(HttpMethod.Post, $"v1/schedules/{Segment(dagId)}/unpause", new { }, cancellationToken);

    public Task<ScheduleResource> UnscheduleAsync(string dagId, bool cancelRunning, CancellationToken cancellationToken) =>
        SendAsync<ScheduleResource>(HttpMethod.Delete, Query($"v1/schedules/{Segment(dagId)}", ("cancelRunning", cancelRunning ? "true" : null)), null, cancellationToken);

    public Task<BackfillResponse> BackfillAsync(string dagId, BackfillRequest request, CancellationToken cancellationToken) =>
        SendAsync<BackfillResponse>(HttpMethod.Post, $"v1/schedules/{Segment(dagId)}/backfills", request, cancellationToken);

    public Task<ListResponse<EventResource>> ListEventsAsync(
        string? state, string? bucket, string? objectName, long? generation, int? limit, CancellationToken cancellationToken) =>
        GetAsync<ListResponse<EventResource>>(
            Query("v1/events", ("state", state), ("bucket", bucket), ("object", objectName), ("generation", generation), ("limit", limit)),
            cancellationToken);

    public Task<EventResource> GetEventAsync(long id, CancellationToken cancellationToken) =>
        GetAsync<EventResource>($"v1/events/{id}", cancellationToken);

    public Task<ListResponse<RunResource>> ListRunsAsync(
        string? kind, string? name, string? state, string? pipeline, string? dag, int? limit, CancellationToken cancellationToken) =>
        GetAsync<ListResponse<RunResource>>(
            Query("v1/runs", ("kind", kind), ("name", name), ("state", state), ("pipeline", pipeline), ("dag", dag), ("limit", limit)),
            cancellationToken);

    public Task<RunResource> GetRunAsync(long id, CancellationToken cancellationToken) =>
        GetAsync<RunResource>($"v1/runs/{id}", cancellationToken);

    public Task<RunResource> CancelRunAsync(long id, string? reason, CancellationToken cancellationToken) =>
        SendAsync<RunResource>(HttpMethod.Post, $"v1/runs/{id}/cancel", new CancelRunRequest(reason), cancellationToken);

    public Task<ListResponse<StepLogResource>> GetRunLogsAsync(long id, string? step, CancellationToken cancellationToken) =>
        GetAsync<ListResponse<StepLogResource>>(Query($"v1/runs/{id}/logs", ("step", step)), cancellationToken);

    public Task<ListResponse<JobResource>> ListJobsAsync(string? state, string? pipeline, int? limit, CancellationToken cancellationToken) =>
        GetAsync<ListResponse<JobResource>>(Query("v1/jobs", ("state", state), ("pipeline", pipeline), ("limit", limit)), cancellationToken);

    public Task<JobResource> GetJobAsync(string id, CancellationToken cancellationToken) =>
        GetAsync<JobResource>($"v1/jobs/{Segment(id)}", cancellationToken);

    public Task<ApplyResponse> ApplyAsync(ApplyRequest request, CancellationToken cancellationToken) =>
        SendAsync<ApplyResponse>(HttpMethod.Post, "v1/manifests", request, cancellationToken);

    public Task<ValidateResponse> ValidateAsync(ApplyRequest request, CancellationToken cancellationToken) =>
        SendAsync<ValidateResponse>(HttpMethod.Post, "v1/manifests/validate", request, cancellationToken);

    /// <summary>Follows a run's log stream (server-sent events) until the run ends or the caller cancels.</summary>
    public async IAsyncEnumerable<ServerSentEvent> FollowRunLogsAsync(long id, string? step, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var response = await OpenStreamAsync(Query($"v1/runs/{id}/logs", ("step", step), ("follow", "true")), cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? eventName = null;
        string? eventId = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    yield return new ServerSentEvent(eventName ?? "message", eventId, data.ToString());
                }

                eventName = null;
                eventId = null;
                data.Clear();
                continue;
            }

            if (line.StartsWith(':'))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "event": eventName = value; break;
                case "id": eventId = value; break;
                case "data":
                    if (data.Length > 0)
                    {
                        data.Append('\n');
                    }

                    data.Append(value);
                    break;
            }
        }
    }

    private static string Segment(string value) => Uri.EscapeDataString(value);

    private static string Query(string path, params (string Name, object? Value)[] parameters)
    {
        var query = string.Join('&', parameters
            .Where(p => p.Value is not null && (p.Value is not string s || s.Length > 0))
            .Select(p => $"{p.Name}={Uri.EscapeDataString(Convert.ToString(p.Value, CultureInfo.InvariantCulture)!)}"));
        return query.Length == 0 ? path : $"{path}?{query}";
    }
}

/// <summary>One server-sent event.</summary>
public sealed record ServerSentEvent(string Event, string? Id, string Data);
