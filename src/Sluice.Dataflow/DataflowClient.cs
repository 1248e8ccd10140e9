using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;

namespace Sluice.Dataflow;

/// <summary>Dataflow REST v1b3 over HTTP, with retries of transient failures and idempotent launches.</summary>
public sealed class DataflowClient : IDataflowClient, IDisposable
{
    private readonly DataflowClientOptions _options;
    private readonly HttpClient _http;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;
    private readonly ResiliencePipeline _launchRetry;
    private readonly string _locationPath;

    public DataflowClient(DataflowClientOptions options, HttpMessageHandler? handler = null, TimeProvider? timeProvider = null,
        ILogger<DataflowClient>? logger = null)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Dataflow client options: " + string.Join(" ", problems), nameof(options));
        }

        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;

        HttpMessageHandler pipeline = handler ?? new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = options.MaxConnections,
            EnableMultipleHttp2Connections = true,
        };
        if (options.Credentials == DataflowCredentials.ApplicationDefault)
        {
            pipeline = new GoogleAuthHandler(options.Credential) { InnerHandler = pipeline };
        }

        _http = new HttpClient(pipeline, disposeHandler: handler is null)
        {
            BaseAddress = DataflowClientOptions.EnsureTrailingSlash(options.Endpoint),
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue(options.UserAgent, "1.0"));
        _locationPath = $"v1b3/projects/{Escape(options.ProjectId)}/locations/{Escape(options.Location)}";
        _retry = BuildRetryPipeline();
        _launchRetry = BuildLaunchRetryPipeline();
    }

    public string ProjectId => _options.ProjectId;

    public string Location => _options.Location;

    public async Task<LaunchTemplateResponse> LaunchTemplateAsync(string gcsPath, LaunchTemplateParameters parameters,
        LaunchIdentity? identity = null, bool validateOnly = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(gcsPath);
        var body = identity is null ? parameters : WithLabels(parameters, identity);
        var uri = $"{_locationPath}/templates:launch?gcsPath={Escape(gcsPath)}";
        if (validateOnly)
        {
            uri += "&validateOnly=true";
        }

        var job = await LaunchIdempotentlyAsync(parameters.JobName, identity, validateOnly,
            (retry, ct) => SendAsync<LaunchTemplateResponse>(HttpMethod.Post, uri, body, new RequestPolicy(retry), ct),
            response => response.Job, cancellationToken);
        return new LaunchTemplateResponse { Job = job };
    }

    public async Task<LaunchFlexTemplateResponse> LaunchFlexTemplateAsync(LaunchFlexTemplateParameter launchParameter,
        LaunchIdentity? identity = null, bool validateOnly = false, CancellationToken cancellationToken = default)
    {
        var request = new LaunchFlexTemplateRequest
        {
            LaunchParameter = identity is null ? launchParameter : WithLabels(launchParameter, identity),
            ValidateOnly = validateOnly ? true : null,
        };
        var job = await LaunchIdempotentlyAsync(launchParameter.JobName, identity, validateOnly,
            (retry, ct) => SendAsync<LaunchFlexTemplateResponse>(HttpMethod.Post, $"{_locationPath}/flexTemplates:launch", request,
                new RequestPolicy(retry), ct),
            response => response.Job, cancellationToken);
        return new LaunchFlexTemplateResponse { Job = job };
    }

    public Task<GetTemplateResponse> GetTemplateAsync(string gcsPath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(gcsPath);
        return SendAsync<GetTemplateResponse>(HttpMethod.Get,
            $"{_locationPath}/templates:get?gcsPath={Escape(gcsPath)}&view=METADATA_ONLY", null, RequestPolicy.Default, cancellationToken);
    }

    public Task<Job> GetJobAsync(string jobId, JobView view = JobView.Description, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        return SendAsync<Job>(HttpMethod.Get,
            $"{_locationPath}/jobs/{Escape(jobId)}?view={WireNames.Of(view)}", null, RequestPolicy.Default, cancellationToken);
    }

    public Task<ListJobsResponse> ListJobsAsync(ListJobsRequest request, CancellationToken cancellationToken = default)
    {
        var query = new QueryBuilder()
            .Add("filter", WireNames.Of(request.Filter))
            .Add("name", request.Name)
            .Add("pageSize", request.PageSize?.ToString(CultureInfo.InvariantCulture))
            .Add("pageToken", request.PageToken);
        return SendAsync<ListJobsResponse>(HttpMethod.Get, $"{_locationPath}/jobs{query}", null, RequestPolicy.Default, cancellationToken);
    }

    public async IAsyncEnumerable<Job> ListAllJobsAsync(JobListFilter filter = JobListFilter.All, string? name = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? pageToken = null;
        do
        {
            var page = await ListJobsAsync(new ListJobsRequest { Filter = filter, Name = name, PageToken = pageToken }, cancellationToken);
            foreach (var job in page.Jobs ?? [])
            {
                yield return job;
            }

            pageToken = string.IsNullOrEmpty(page.NextPageToken) ? null : page.NextPageToken;
        }
        while (pageToken is not null);
    }

    public async Task<Job> UpdateJobAsync(string jobId, Job job, string? updateMask = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        var uri = $"{_locationPath}/jobs/{Escape(jobId)}";
        if (!string.IsNullOrEmpty(updateMask))
        {
            uri += $"?updateMask={Escape(updateMask)}";
        }

        var attempts = 0;
        try
        {
            return await SendAsync<Job>(HttpMethod.Put, uri, job, new RequestPolicy(Retry: true, OnAttempt: () => attempts++), cancellationToken);
        }
        catch (DataflowApiException ex) when (attempts > 1 && ex.IsJobTerminated && job.RequestedState is { } requested && requested.IsTerminal())
        {
            // An earlier attempt whose answer was lost already stopped the job: the stop succeeded.
            return await GetJobAsync(jobId, JobView.Description, cancellationToken);
        }
    }

    public Task<Job> CancelJobAsync(string jobId, CancellationToken cancellationToken = default) =>
        UpdateJobAsync(jobId, new Job { RequestedState = JobState.Cancelled }, null, cancellationToken);

    public Task<Job> DrainJobAsync(string jobId, CancellationToken cancellationToken = default) =>
        UpdateJobAsync(jobId, new Job { RequestedState = JobState.Drained }, null, cancellationToken);

    public Task<Job> UpdateRuntimeParamsAsync(string jobId, RuntimeUpdatableParams runtimeParams, CancellationToken cancellationToken = default)
    {
        var paths = new List<string>();
        if (runtimeParams.MinNumWorkers is not null)
        {
            paths.Add("runtime_updatable_params.min_num_workers");
        }

        if (runtimeParams.MaxNumWorkers is not null)
        {
            paths.Add("runtime_updatable_params.max_num_workers");
        }

        if (runtimeParams.WorkerUtilizationHint is not null)
        {
            paths.Add("runtime_updatable_params.worker_utilization_hint");
        }

        if (paths.Count == 0)
        {
            throw new ArgumentException("Set at least one of MinNumWorkers, MaxNumWorkers, WorkerUtilizationHint.", nameof(runtimeParams));
        }

        return UpdateJobAsync(jobId, new Job { RuntimeUpdatableParams = runtimeParams }, string.Join(',', paths), cancellationToken);
    }

    public Task<ListJobMessagesResponse> ListJobMessagesAsync(string jobId, ListJobMessagesRequest request,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        var query = new QueryBuilder()
            .Add("minimumImportance", request.MinimumImportance is { } importance ? WireNames.Of(importance) : null)
            .Add("startTime", request.StartTime is { } start ? GoogleTimestampConverter.Format(start) : null)
            .Add("endTime", request.EndTime is { } end ? GoogleTimestampConverter.Format(end) : null)
            .Add("pageSize", request.PageSize?.ToString(CultureInfo.InvariantCulture))
            .Add("pageToken", request.PageToken);
        return SendAsync<ListJobMessagesResponse>(HttpMethod.Get, $"{_locationPath}/jobs/{Escape(jobId)}/messages{query}", null, RequestPolicy.Default, cancellationToken);
    }

    public async Task<ListJobMessagesResponse> ListAllJobMessagesAsync(string jobId, ListJobMessagesRequest request,
        CancellationToken cancellationToken = default)
    {
        var merged = new ListJobMessagesResponse { JobMessages = [], AutoscalingEvents = [] };
        var pageRequest = request;
        while (true)
        {
            var page = await ListJobMessagesAsync(jobId, pageRequest, cancellationToken);
            merged.JobMessages.AddRange(page.JobMessages ?? []);
            merged.AutoscalingEvents.AddRange(page.AutoscalingEvents ?? []);
            if (string.IsNullOrEmpty(page.NextPageToken))
            {
                return merged;
            }

            pageRequest = pageRequest with { PageToken = page.NextPageToken };
        }
    }

    public Task<JobMetrics> GetJobMetricsAsync(string jobId, DateTimeOffset? startTime = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        var query = new QueryBuilder().Add("startTime", startTime is { } start ? GoogleTimestampConverter.Format(start) : null);
        return SendAsync<JobMetrics>(HttpMethod.Get, $"{_locationPath}/jobs/{Escape(jobId)}/metrics{query}", null, RequestPolicy.Default, cancellationToken);
    }

    public async Task<Job?> FindLaunchedJobAsync(LaunchIdentity identity, string jobName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobName);
        Job? newest = null;
        await foreach (var listed in ListAllJobsAsync(JobListFilter.All, jobName, cancellationToken))
        {
            if (listed.Name != jobName || listed.Id is null)
            {
                continue;
            }

            // jobs.list answers with summaries, which may lack labels; the description view has them.
            var job = listed.Labels is null ? await GetJobAsync(listed.Id, JobView.Description, cancellationToken) : listed;
            if (identity.Matches(job.Labels)
                && (newest is null || (job.CreateTime ?? DateTimeOffset.MinValue) > (newest.CreateTime ?? DateTimeOffset.MinValue)))
            {
                newest = job;
            }
        }

        return newest;
    }

    public void Dispose() => _http.Dispose();

    // At-least-once launch made safe: before a retry, and on a 409, look the job up by name and identity labels;
    // if an earlier attempt (or an earlier run of this step) already started it, that job is the answer.
    private async Task<Job?> LaunchIdempotentlyAsync<TResponse>(string? jobName, LaunchIdentity? identity, bool validateOnly,
        Func<bool, CancellationToken, Task<TResponse>> launch, Func<TResponse, Job?> jobOf, CancellationToken cancellationToken)
    {
        if (identity is null || validateOnly || string.IsNullOrEmpty(jobName))
        {
            return jobOf(await launch(true, cancellationToken));
        }

        var attempt = 0;
        try
        {
            return await _launchRetry.ExecuteAsync(async ct =>
            {
                if (attempt++ > 0 && await FindLaunchedJobAsync(identity, jobName, ct) is { } launched)
                {
                    _logger.LogInformation("Launch of {JobName} was already done by an earlier attempt: job {JobId}", jobName, launched.Id);
                    return launched;
                }

                return jobOf(await launch(false, ct));
            }, cancellationToken);
        }
        catch (DataflowApiException ex) when (ex.IsAlreadyExists)
        {
            if (await FindLaunchedJobAsync(identity, jobName, cancellationToken) is { } own)
            {
                _logger.LogInformation("Launch of {JobName} answered 409, but the active job {JobId} is this launch's own", jobName, own.Id);
                return own;
            }

            throw;
        }
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string relativeUri, object? body, RequestPolicy policy, CancellationToken cancellationToken)
    {
        using var response = await SendWithRetriesAsync(method, relativeUri, body, policy, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw DataflowApiException.FromResponse((int)response.StatusCode, text);
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            text = "{}";
        }

        try
        {
            return JsonSerializer.Deserialize<T>(text, DataflowJson.Options)
                ?? throw new DataflowApiException((int)response.StatusCode, null, null, $"Dataflow answered {method} {relativeUri} with an empty body.");
        }
        catch (JsonException ex)
        {
            throw new DataflowApiException((int)response.StatusCode, null, null,
                $"Dataflow's answer to {method} {relativeUri} is not the expected JSON: {ex.Message}", null, ex);
        }
    }

    private async Task<HttpResponseMessage> SendWithRetriesAsync(HttpMethod method, string relativeUri, object? body,
        RequestPolicy policy, CancellationToken cancellationToken)
    {
        var pipeline = policy.Retry ? _retry : ResiliencePipeline<HttpResponseMessage>.Empty;
        return await pipeline.ExecuteAsync(async ct =>
            {
                policy.OnAttempt?.Invoke();
                using var request = new HttpRequestMessage(method, relativeUri)
                {
                    // HTTP/2 where the endpoint offers it (Google's do, over TLS); plain-HTTP endpoints such as the
                    // emulator stay on HTTP/1.1.
                    Version = HttpVersion.Version20,
                    VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
                };
                if (body is not null)
                {
                    request.Content = new StringContent(JsonSerializer.Serialize(body, body.GetType(), DataflowJson.Options), Encoding.UTF8, "application/json");
                }

                using var timeout = new CancellationTokenSource(_options.RequestTimeout, _timeProvider);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
                try
                {
                    var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token);
                    if (DataflowApiException.IsTransientStatus((int)response.StatusCode) && !policy.Retry)
                    {
                        // The caller retries this request itself (launches): report the transient answer as an exception.
                        var text = await response.Content.ReadAsStringAsync(ct);
                        response.Dispose();
                        throw DataflowApiException.FromResponse((int)response.StatusCode, text);
                    }

                    return response;
                }
                catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
                {
                    throw new DataflowApiException(0, "DEADLINE_EXCEEDED", null,
                        $"Dataflow did not answer {method} {relativeUri} within {_options.RequestTimeout.TotalSeconds:0.#} s.", null, ex);
                }
                catch (HttpRequestException ex)
                {
                    throw new DataflowApiException(0, "UNAVAILABLE", null,
                        $"Could not reach Dataflow at {_http.BaseAddress}: {ex.Message}", null, ex);
                }
            }, cancellationToken);
    }

    private ResiliencePipeline<HttpResponseMessage> BuildRetryPipeline()
    {
        var retry = new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = _options.MaxRetryAttempts,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = _options.RetryBaseDelay,
            MaxDelay = _options.RetryMaxDelay,
            ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                .Handle<DataflowApiException>(ex => ex.IsTransient)
                .HandleResult(response => DataflowApiException.IsTransientStatus((int)response.StatusCode)),
            DelayGenerator = args =>
            {
                // Honour Retry-After (429/503) within the delay bound.
                var retryAfter = args.Outcome.Result?.Headers.RetryAfter?.Delta;
                return ValueTask.FromResult<TimeSpan?>(retryAfter is { } delta ? TimeSpan.FromTicks(Math.Min(delta.Ticks, _options.RetryMaxDelay.Ticks)) : null);
            },
            OnRetry = args =>
            {
                var what = args.Outcome.Exception?.Message ?? $"HTTP {(int?)args.Outcome.Result?.StatusCode}";
                _logger.LogWarning("Dataflow request failed transiently ({What}); retry {Attempt} in {Delay}", what, args.AttemptNumber + 1, args.RetryDelay);
                return ValueTask.CompletedTask;
            },
        };

        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _timeProvider };
        if (_options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(retry);
        }

        return builder.Build();
    }

    /// <summary>Launches are retried one level up, with a lookup of the job before each retry; same backoff.</summary>
    private ResiliencePipeline BuildLaunchRetryPipeline()
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = _timeProvider };
        if (_options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = _options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryBaseDelay,
                MaxDelay = _options.RetryMaxDelay,
                ShouldHandle = new PredicateBuilder().Handle<DataflowApiException>(ex => ex.IsTransient),
                OnRetry = args =>
                {
                    _logger.LogWarning("Launch failed transiently ({Message}); retry {Attempt} in {Delay}",
                        args.Outcome.Exception?.Message, args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            });
        }

        return builder.Build();
    }

    private static LaunchTemplateParameters WithLabels(LaunchTemplateParameters parameters, LaunchIdentity identity)
    {
        var environment = parameters.Environment is null
            ? new RuntimeEnvironment()
            : JsonSerializer.Deserialize<RuntimeEnvironment>(JsonSerializer.Serialize(parameters.Environment, DataflowJson.Options), DataflowJson.Options)!;
        environment.AdditionalUserLabels = MergeLabels(environment.AdditionalUserLabels, identity);
        return new LaunchTemplateParameters
        {
            JobName = parameters.JobName,
            Parameters = parameters.Parameters,
            Environment = environment,
            Update = parameters.Update,
            TransformNameMapping = parameters.TransformNameMapping,
        };
    }

    private static LaunchFlexTemplateParameter WithLabels(LaunchFlexTemplateParameter parameter, LaunchIdentity identity)
    {
        var copy = JsonSerializer.Deserialize<LaunchFlexTemplateParameter>(JsonSerializer.Serialize(parameter, DataflowJson.Options), DataflowJson.Options)!;
        copy.Environment ??= new FlexTemplateRuntimeEnvironment();
        copy.Environment.AdditionalUserLabels = MergeLabels(copy.Environment.AdditionalUserLabels, identity);
        return copy;
    }

    private static Dictionary<string, string> MergeLabels(Dictionary<string, string>? labels, LaunchIdentity identity)
    {
        var merged = labels is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(labels, StringComparer.Ordinal);
        foreach (var (key, value) in identity.Labels)
        {
            merged[key] = value;
        }

        return merged;
    }

    private static string Escape(string value) => Uri.EscapeDataString(value);

    /// <summary>Whether a request is retried here (launches retry themselves, with a lookup in between).</summary>
    private sealed record RequestPolicy(bool Retry, Action? OnAttempt = null)
    {
        public static RequestPolicy Default { get; } = new(true);
    }

    private sealed class QueryBuilder
    {
        private readonly StringBuilder _text = new();

        public QueryBuilder Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                _text.Append(_text.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            }

            return this;
        }

        public override string ToString() => _text.ToString();
    }
}
