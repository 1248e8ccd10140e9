namespace Sluice.Dataflow;

/// <summary>
/// The Dataflow REST v1b3 methods Sluice uses, for one project and region. The same client talks to Google Cloud and
/// to the local emulator. Transient failures are retried inside; every other failure is a <see cref="DataflowApiException"/>.
/// </summary>
public interface IDataflowClient
{
    string ProjectId { get; }

    string Location { get; }

    /// <summary>
    /// templates.launch of a classic template. With an <paramref name="identity"/>, the job carries its labels and the
    /// launch is idempotent: a retry after a lost answer, or a 409 for a job this identity already started, returns
    /// that job instead of starting a second one. With <paramref name="validateOnly"/> nothing is launched.
    /// </summary>
    Task<LaunchTemplateResponse> LaunchTemplateAsync(string gcsPath, LaunchTemplateParameters parameters,
        LaunchIdentity? identity = null, bool validateOnly = false, CancellationToken cancellationToken = default);

    /// <summary>flexTemplates.launch, idempotent with an <paramref name="identity"/> like <see cref="LaunchTemplateAsync"/>.</summary>
    Task<LaunchFlexTemplateResponse> LaunchFlexTemplateAsync(LaunchFlexTemplateParameter launchParameter,
        LaunchIdentity? identity = null, bool validateOnly = false, CancellationToken cancellationToken = default);

    /// <summary>templates.get with <c>view=METADATA_ONLY</c>.</summary>
    Task<GetTemplateResponse> GetTemplateAsync(string gcsPath, CancellationToken cancellationToken = default);

    /// <summary>jobs.get; the default description view includes labels and environment, which summaries omit.</summary>
    Task<Job> GetJobAsync(string jobId, JobView view = JobView.Description, CancellationToken cancellationToken = default);

    /// <summary>One page of jobs.list.</summary>
    Task<ListJobsResponse> ListJobsAsync(ListJobsRequest request, CancellationToken cancellationToken = default);

    /// <summary>Every job of jobs.list, following page tokens.</summary>
    IAsyncEnumerable<Job> ListAllJobsAsync(JobListFilter filter = JobListFilter.All, string? name = null,
        CancellationToken cancellationToken = default);

    /// <summary>jobs.update; with an empty <paramref name="updateMask"/> Dataflow reads only <c>requestedState</c>.</summary>
    Task<Job> UpdateJobAsync(string jobId, Job job, string? updateMask = null, CancellationToken cancellationToken = default);

    /// <summary>Requests JOB_STATE_CANCELLED. A retry that finds the job already terminal returns it.</summary>
    Task<Job> CancelJobAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Requests JOB_STATE_DRAINED (streaming jobs only). A retry that finds the job already terminal returns it.</summary>
    Task<Job> DrainJobAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>jobs.update of <c>runtimeUpdatableParams</c> (min/max workers, utilization hint) with the matching update mask.</summary>
    Task<Job> UpdateRuntimeParamsAsync(string jobId, RuntimeUpdatableParams runtimeParams, CancellationToken cancellationToken = default);

    /// <summary>One page of jobs.messages.list.</summary>
    Task<ListJobMessagesResponse> ListJobMessagesAsync(string jobId, ListJobMessagesRequest request, CancellationToken cancellationToken = default);

    /// <summary>Every page of jobs.messages.list, merged.</summary>
    Task<ListJobMessagesResponse> ListAllJobMessagesAsync(string jobId, ListJobMessagesRequest request, CancellationToken cancellationToken = default);

    Task<JobMetrics> GetJobMetricsAsync(string jobId, DateTimeOffset? startTime = null, CancellationToken cancellationToken = default);

    /// <summary>The newest job named <paramref name="jobName"/> (in any state) that carries <paramref name="identity"/>'s labels, or null.</summary>
    Task<Job?> FindLaunchedJobAsync(LaunchIdentity identity, string jobName, CancellationToken cancellationToken = default);
}

/// <summary>Query of jobs.list.</summary>
public sealed record ListJobsRequest
{
    public JobListFilter Filter { get; init; } = JobListFilter.All;
    public string? Name { get; init; }
    public int? PageSize { get; init; }
    public string? PageToken { get; init; }
}

/// <summary>Query of jobs.messages.list.</summary>
public sealed record ListJobMessagesRequest
{
    public JobMessageImportance? MinimumImportance { get; init; }
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? EndTime { get; init; }
    public int? PageSize { get; init; }
    public string? PageToken { get; init; }
}
