using Sluice.Dataflow;

namespace Sluice.Controller.CrashHost;

/// <summary>Forwards every call; dies right after Dataflow answered the call named by the crash point.</summary>
internal sealed class CrashingDataflowClient(IDataflowClient inner, CrashPoint crash) : IDataflowClient
{
    public string ProjectId => inner.ProjectId;

    public string Location => inner.Location;

    private async Task<T> After<T>(string method, Task<T> call)
    {
        var result = await call;
        crash.Check("dataflow", method, "after");
        return result;
    }

    public Task<LaunchTemplateResponse> LaunchTemplateAsync(string gcsPath, LaunchTemplateParameters parameters, LaunchIdentity? identity = null,
        bool validateOnly = false, CancellationToken cancellationToken = default) =>
        After("LaunchTemplate", inner.LaunchTemplateAsync(gcsPath, parameters, identity, validateOnly, cancellationToken));

    public Task<LaunchFlexTemplateResponse> LaunchFlexTemplateAsync(LaunchFlexTemplateParameter launchParameter, LaunchIdentity? identity = null,
        bool validateOnly = false, CancellationToken cancellationToken = default) =>
        After("LaunchFlexTemplate", inner.LaunchFlexTemplateAsync(launchParameter, identity, validateOnly, cancellationToken));

    public Task<GetTemplateResponse> GetTemplateAsync(string gcsPath, CancellationToken cancellationToken = default) =>
        inner.GetTemplateAsync(gcsPath, cancellationToken);

    public Task<Job> GetJobAsync(string jobId, JobView view = JobView.Summary, CancellationToken cancellationToken = default) =>
        inner.GetJobAsync(jobId, view, cancellationToken);

    public Task<ListJobsResponse> ListJobsAsync(ListJobsRequest request, CancellationToken cancellationToken = default) =>
        inner.ListJobsAsync(request, cancellationToken);

    public IAsyncEnumerable<Job> ListAllJobsAsync(JobListFilter filter = JobListFilter.All, string? name = null, CancellationToken cancellationToken = default) =>
        inner.ListAllJobsAsync(filter, name, cancellationToken);

    public Task<Job> UpdateJobAsync(string jobId, Job job, string? updateMask = null, CancellationToken cancellationToken = default) =>
        After("UpdateJob", inner.UpdateJobAsync(jobId, job, updateMask, cancellationToken));

    public Task<Job> CancelJobAsync(string jobId, CancellationToken cancellationToken = default) =>
        After("CancelJob", inner.CancelJobAsync(jobId, cancellationToken));

    public Task<Job> DrainJobAsync(string jobId, CancellationToken cancellationToken = default) =>
        After("DrainJob", inner.DrainJobAsync(jobId, cancellationToken));

    public Task<Job> UpdateRuntimeParamsAsync(string jobId, RuntimeUpdatableParams runtimeParams, CancellationToken cancellationToken = default) =>
        inner.UpdateRuntimeParamsAsync(jobId, runtimeParams, cancellationToken);

    public Task<ListJobMessagesResponse> ListJobMessagesAsync(string jobId, ListJobMessagesRequest request, CancellationToken cancellationToken = default) =>
        inner.ListJobMessagesAsync(jobId, request, cancellationToken);

    public Task<ListJobMessagesResponse> ListAllJobMessagesAsync(string jobId, ListJobMessagesRequest request, CancellationToken cancellationToken = default) =>
        inner.ListAllJobMessagesAsync(jobId, request, cancellationToken);

    public Task<JobMetrics> GetJobMetricsAsync(string jobId, DateTimeOffset? startTime = null, CancellationToken cancellationToken = default) =>
        inner.GetJobMetricsAsync(jobId, startTime, cancellationToken);

    public Task<Job?> FindLaunchedJobAsync(LaunchIdentity identity, string jobName, CancellationToken cancellationToken = default) =>
        inner.FindLaunchedJobAsync(identity, jobName, cancellationToken);
}
