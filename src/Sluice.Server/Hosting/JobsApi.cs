using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Sluice.Dataflow;
using Sluice.Server.Api;
using Sluice.Server.Modules;

namespace Sluice.Server.Hosting;

/// <summary><c>/v1/jobs</c>: Dataflow jobs, their messages and metrics, read through the configured runner.</summary>
internal static class JobsApi
{
    /// <summary>Messages shown with one job (the newest ones).</summary>
    public const int MessagesInDetail = 100;

    public static void Map(SluiceEndpoints endpoints)
    {
        var jobs = endpoints.Api.MapGroup("/jobs").WithTags("Jobs");
        jobs.MapGet("", ListAsync).WithName("ListJobs").WithSummary("Dataflow jobs of a project and region");
        jobs.MapGet("/{id}", GetAsync).WithName("GetJob").WithSummary("A job with its newest messages and its metrics");
        jobs.MapGet("/{id}/messages", MessagesAsync).WithName("GetJobMessages");
        jobs.MapGet("/{id}/metrics", MetricsAsync).WithName("GetJobMetrics");
    }

    private static async Task<Results<Ok<ListResponse<JobResource>>, ProblemHttpResult>> ListAsync(
        ServerDataflowClients clients, string? state, string? pipeline, string? project, string? region, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var filter = (state ?? "all").ToLowerInvariant() switch
        {
            "all" => JobListFilter.All,
            "active" => JobListFilter.Active,
            "terminated" => JobListFilter.Terminated,
            _ => (JobListFilter?)null,
        };
        if (filter is null)
        {
            return SluiceProblems.BadRequest($"'{state}' is not a job filter; use active, terminated or all.");
        }

        return await CallAsync<ListResponse<JobResource>>(clients, project, region, null, async client =>
        {
            var page = await client.ListJobsAsync(
                new ListJobsRequest { Filter = filter.Value, PageSize = Math.Clamp(limit ?? 50, 1, 500), PageToken = cursor },
                cancellationToken);
            var jobs = page.Jobs ?? [];
            if (pipeline is not null)
            {
                // Listed jobs are summaries without labels; the pipeline filter needs each job's description.
                var described = new List<Job>();
                foreach (var job in jobs.Where(j => j.Id is not null))
                {
                    described.Add(await client.GetJobAsync(job.Id!, JobView.Description, cancellationToken));
                }

                jobs = described.Where(j => j.Labels?.GetValueOrDefault(LaunchIdentity.PipelineLabel) == LaunchIdentity.ToLabelValue(pipeline)).ToList();
            }

            var items = jobs.Select(j => j.ToResource(client.ProjectId, client.Location)).ToArray();
            return new ListResponse<JobResource>(items, page.NextPageToken is { Length: > 0 } next ? next : null);
        });
    }

    private static Task<Results<Ok<JobResource>, ProblemHttpResult>> GetAsync(
        string id, ServerDataflowClients clients, string? project, string? region, CancellationToken cancellationToken) =>
        CallAsync(clients, project, region, id, async client =>
        {
            var job = await client.GetJobAsync(id, JobView.Description, cancellationToken);
            var messages = await client.ListAllJobMessagesAsync(id, new ListJobMessagesRequest { MinimumImportance = JobMessageImportance.Basic }, cancellationToken);
            var metrics = await client.GetJobMetricsAsync(id, null, cancellationToken);
            return job.ToResource(client.ProjectId, client.Location) with
            {
                Messages = (messages.JobMessages ?? [])
                    .OrderBy(m => m.Time)
                    .TakeLast(MessagesInDetail)
                    .Select(m => m.ToResource())
                    .ToArray(),
                Metrics = metrics.ToResources(),
            };
        });

    private static async Task<Results<Ok<ListResponse<JobMessageResource>>, ProblemHttpResult>> MessagesAsync(
        string id, ServerDataflowClients clients, string? project, string? region, string? minimumImportance, CancellationToken cancellationToken)
    {
        JobMessageImportance? importance = null;
        if (minimumImportance is { Length: > 0 })
        {
            if (!WireNames.TryParse<JobMessageImportance>(minimumImportance, out var parsed))
            {
                return SluiceProblems.BadRequest($"'{minimumImportance}' is not a message importance; use JOB_MESSAGE_DEBUG, JOB_MESSAGE_DETAILED, JOB_MESSAGE_BASIC, JOB_MESSAGE_WARNING or JOB_MESSAGE_ERROR.");
            }

            importance = parsed;
        }

        return await CallAsync(clients, project, region, id, async client =>
        {
            var messages = await client.ListAllJobMessagesAsync(id, new ListJobMessagesRequest { MinimumImportance = importance }, cancellationToken);
            return new ListResponse<JobMessageResource>((messages.JobMessages ?? []).OrderBy(m => m.Time).Select(m => m.ToResource()).ToArray());
        });
    }

    private static Task<Results<Ok<ListResponse<JobMetricResource>>, ProblemHttpResult>> MetricsAsync(
        string id, ServerDataflowClients clients, string? project, string? region, CancellationToken cancellationToken) =>
        CallAsync(clients, project, region, id, async client =>
            new ListResponse<JobMetricResource>((await client.GetJobMetricsAsync(id, null, cancellationToken)).ToResources()));

    /// <summary>Runs a Dataflow call and turns its failures into problem documents.</summary>
    private static async Task<Results<Ok<T>, ProblemHttpResult>> CallAsync<T>(
        ServerDataflowClients clients, string? project, string? region, string? jobId, Func<IDataflowClient, Task<T>> call)
    {
        var client = clients.For(project, region);
        try
        {
            return TypedResults.Ok(await call(client));
        }
        catch (DataflowApiException e) when (e.StatusCode == StatusCodes.Status404NotFound && jobId is not null)
        {
            return SluiceProblems.NotFound("job", jobId, $"in project {client.ProjectId}, region {client.Location}; list them with 'sluice get jobs'");
        }
        catch (DataflowApiException e)
        {
            return SluiceProblems.RunnerError($"The Dataflow API answered {e.StatusCode}: {e.Message}");
        }
        catch (HttpRequestException e)
        {
            return SluiceProblems.RunnerError($"The Dataflow API could not be reached ({e.Message}); check the runner settings (runner, dataflowEndpoint) and the network.");
        }
    }
}
