using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sluice.Dataflow;

namespace Sluice.Emulator;

/// <summary>
/// The emulator's state machine (DATAFLOW_API.md): jobs are local processes; launch → PENDING → RUNNING; drain = SIGTERM
/// → DRAINED on a clean exit; cancel → CANCELLING → kill → CANCELLED; a batch exit 0 → DONE, non-zero → FAILED; an
/// in-place update stops the old job (UPDATED) and starts the new one. Every transition happens under one lock and is
/// written to the job table before the answer leaves.
/// </summary>
internal sealed partial class DataflowEmulator : IHostedService, IDisposable
{
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 1000;

    // Waits on operating-system processes (grace periods, readiness, flushing) run on real time even when job
    // timestamps come from an injected (possibly fake) clock: a process does not wait for a fake clock to advance.
    private static readonly TimeProvider ProcessClock = TimeProvider.System;

    private readonly EmulatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly JobStore _store;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, EmulatedJob> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Process> _processes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskCompletionSource> _exits = new(StringComparer.Ordinal);
    private readonly List<Task> _running = [];
    private readonly CancellationTokenSource _stopping = new();
    private bool _dirty;
    private bool _shuttingDown;
    private Task? _flushLoop;

    public DataflowEmulator(EmulatorOptions options, TimeProvider time, ILogger<DataflowEmulator> logger)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid emulator options: " + string.Join(" ", problems), nameof(options));
        }

        _options = options;
        _time = time;
        _logger = logger;
        _store = new JobStore(options.ResolvedStateDirectory);
        Directory.CreateDirectory(BucketsDirectory);
    }

    public string BucketsDirectory => Path.GetFullPath(_options.BucketsDirectory);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var loaded = _store.Load();
        lock (_gate)
        {
            foreach (var job in loaded)
            {
                _jobs[job.Id] = job;
                if (!job.State.IsActive())
                {
                    continue;
                }

                // The emulator lost this job's output pipes when it stopped, so a job still marked active cannot be
                // followed any more: stop what may be left of it and say so.
                if (job.ProcessId is { } pid && job.ProcessStartTime is { } started && JobProcess.FindRunning(pid, started) is { } orphan)
                {
                    JobProcess.Kill(orphan);
                    orphan.Dispose();
                }

                job.PendingReplaceJobId = null;
                job.PendingReplacedByJobId = null;
                AddMessage(job, JobMessageImportance.Error,
                    "The job's local process ended while the emulator was not running (the emulator restarted); relaunch the job.");
                if (job.CurrentWorkers > 0)
                {
                    SetWorkers(job, 0, "Worker pool stopped.");
                }

                Transition(job, JobState.Failed);
            }

            SaveLocked();
        }

        _flushLoop = FlushLoopAsync(_stopping.Token);
        _logger.LogInformation("Dataflow emulator ready: buckets {Buckets}, state {State}, {Count} known jobs",
            BucketsDirectory, _options.ResolvedStateDirectory, loaded.Count);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        List<Process> processes;
        lock (_gate)
        {
            if (_shuttingDown)
            {
                return;
            }

            _shuttingDown = true;
            foreach (var job in _jobs.Values.Where(job => job.State.IsActive() && job.StopReason == StopReason.None))
            {
                job.StopReason = StopReason.EmulatorShutdown;
            }

            processes = [.. _processes.Values];
        }

        // SIGTERM first so that streaming jobs checkpoint their work, then kill what is left.
        foreach (var process in processes)
        {
            JobProcess.Terminate(process);
        }

        Task[] running;
        lock (_gate)
        {
            running = [.. _running];
        }

        var all = Task.WhenAll(running);
        if (await Task.WhenAny(all, Task.Delay(_options.ShutdownGracePeriod, ProcessClock, CancellationToken.None)) != all)
        {
            foreach (var process in processes)
            {
                JobProcess.Kill(process);
            }

            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(5), ProcessClock, CancellationToken.None));
        }

        await _stopping.CancelAsync();
        if (_flushLoop is not null)
        {
#pragma warning disable VSTHRD003 // the loop was started by this instance's StartAsync and ends with _stopping
            await _flushLoop;
#pragma warning restore VSTHRD003
        }

        lock (_gate)
        {
            SaveLocked();
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        lock (_gate)
        {
            foreach (var process in _processes.Values)
            {
                process.Dispose();
            }
        }
    }

    // ---- templates.launch / flexTemplates.launch ----------------------------------------------------------------

    public LaunchTemplateResponse LaunchClassic(string projectId, string location, string? gcsPath, bool validateOnly,
        LaunchTemplateParameters body)
    {
        if (string.IsNullOrWhiteSpace(gcsPath))
        {
            throw EmulatorException.InvalidArgument("gcsPath is required: the Cloud Storage path of the template, e.g. gs://bucket/templates/name.");
        }

        var template = LocalTemplates.LoadClassic(BucketsDirectory, gcsPath);
        var environment = body.Environment is null ? new JsonObject() : (JsonObject)JsonSerializer.SerializeToNode(body.Environment, DataflowJson.Options)!;
        var job = Launch(new LaunchRequest(projectId, location, body.JobName, body.Parameters ?? [], environment,
            body.Environment?.NumWorkers, body.Environment?.MaxWorkers, body.Environment?.AdditionalUserLabels,
            body.Update == true, body.TransformNameMapping, template, validateOnly));
        return new LaunchTemplateResponse { Job = job };
    }

    public LaunchFlexTemplateResponse LaunchFlex(string projectId, string location, LaunchFlexTemplateRequest body, JsonObject? rawContainerSpec)
    {
        var parameter = body.LaunchParameter
            ?? throw EmulatorException.InvalidArgument("launchParameter is required.");
        LocalTemplate template;
        if (!string.IsNullOrWhiteSpace(parameter.ContainerSpecGcsPath))
        {
            template = LocalTemplates.LoadFlex(BucketsDirectory, parameter.ContainerSpecGcsPath);
        }
        else if (rawContainerSpec is not null)
        {
            template = LocalTemplates.FromContainerSpec(rawContainerSpec, "launchParameter.containerSpec", BucketsDirectory);
        }
        else
        {
            throw EmulatorException.InvalidArgument("launchParameter needs containerSpecGcsPath (the flex template spec file) or containerSpec.");
        }

        // The template's default environment applies under the launch's own values.
        var environment = template.ContainerSpec?.DefaultEnvironment is { } defaults
            ? (JsonObject)JsonSerializer.SerializeToNode(defaults, DataflowJson.Options)!
            : new JsonObject();
        if (parameter.Environment is not null)
        {
            foreach (var (name, value) in (JsonObject)JsonSerializer.SerializeToNode(parameter.Environment, DataflowJson.Options)!)
            {
                environment[name] = value?.DeepClone();
            }
        }

        var merged = environment.Deserialize<FlexTemplateRuntimeEnvironment>(DataflowJson.Options)!;
        var job = Launch(new LaunchRequest(projectId, location, parameter.JobName, parameter.Parameters ?? [], environment,
            merged.NumWorkers, merged.MaxWorkers, merged.AdditionalUserLabels, parameter.Update == true,
            parameter.TransformNameMappings, template, body.ValidateOnly == true));
        return new LaunchFlexTemplateResponse { Job = job };
    }

    private sealed record LaunchRequest(
        string ProjectId,
        string Location,
        string? JobName,
        Dictionary<string, string> Parameters,
        JsonObject Environment,
        int? NumWorkers,
        int? MaxWorkers,
        Dictionary<string, string>? Labels,
        bool Update,
        Dictionary<string, string>? TransformNameMapping,
        LocalTemplate Template,
        bool ValidateOnly);

    private Job? Launch(LaunchRequest request)
    {
        var jobName = request.JobName;
        if (string.IsNullOrEmpty(jobName))
        {
            throw EmulatorException.InvalidArgument("jobName is required.");
        }

        if (!JobNamePattern().IsMatch(jobName))
        {
            throw EmulatorException.InvalidArgument(
                $"The job name '{jobName}' is invalid: it must match [a-z]([-a-z0-9]{{0,1022}}[a-z0-9])?, that is start with a lowercase letter and use only lowercase letters, digits and hyphens.");
        }

        var violations = LocalTemplates.Validate(request.Template, request.Parameters);
        if (violations.Count > 0)
        {
            throw EmulatorException.InvalidTemplateParameters(violations);
        }

        if (request.Labels is { Count: > 64 })
        {
            throw EmulatorException.InvalidArgument($"A job may have at most 64 labels; this launch has {request.Labels.Count}.");
        }

        if (request.ValidateOnly)
        {
            return null;
        }

        EmulatedJob created;
        lock (_gate)
        {
            if (_shuttingDown)
            {
                throw new EmulatorException(503, "UNAVAILABLE", "The emulator is shutting down; try again when it is back.");
            }

            var active = _jobs.Values
                .Where(job => job.Job.ProjectId == request.ProjectId && job.Job.Location == request.Location
                    && job.Job.Name == jobName && job.State.IsActive())
                .ToList();
            EmulatedJob? replaced = null;
            if (request.Update)
            {
                replaced = active.FirstOrDefault(job => job.State is JobState.Running or JobState.Draining)
                    ?? throw EmulatorException.NotFound(
                        $"Could not find a job named {jobName} in RUNNING OR DRAINING state in project {request.ProjectId}, location {request.Location} to update; launch it without update.");
                if (!replaced.IsStreaming)
                {
                    throw EmulatorException.FailedPrecondition($"Job {replaced.Id} ({jobName}) is a batch job; only streaming jobs can be updated in place.");
                }

                if (replaced.PendingReplacedByJobId is { } other)
                {
                    throw EmulatorException.FailedPrecondition($"Job {replaced.Id} ({jobName}) is already being updated by job {other}; wait until that update has finished.");
                }
            }
            else if (active.Count > 0)
            {
                throw EmulatorException.AlreadyExists(
                    $"There is already an active job named {jobName}. If you want to submit a second job, try again by setting a different name.");
            }

            created = CreateJob(request, jobName, replaced);
            _jobs[created.Id] = created;
            _exits[created.Id] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (replaced is not null)
            {
                replaced.PendingReplacedByJobId = created.Id;
            }

            AddMessage(created, JobMessageImportance.Basic, $"Job {created.Id} created from template {request.Template.GcsPath}.");
            SaveLocked();
            _running.RemoveAll(task => task.IsCompleted);
            _running.Add(Task.Run(() => RunJobAsync(created)));
            return Snapshot(created, JobView.All);
        }
    }

    private EmulatedJob CreateJob(LaunchRequest request, string jobName, EmulatedJob? replaced)
    {
        var now = _time.GetUtcNow();
        var id = string.Create(CultureInfo.InvariantCulture, $"{now.UtcDateTime:yyyy-MM-dd_HH_mm_ss}-{RandomDigits()}");
        var template = request.Template;
        var labels = request.Labels is null ? null : new Dictionary<string, string>(request.Labels, StringComparer.Ordinal);
        var options = new JsonObject();
        foreach (var (name, value) in request.Parameters)
        {
            options[name] = value;
        }

        var environment = request.Environment;
        var job = new Job
        {
            Id = id,
            ProjectId = request.ProjectId,
            Name = jobName,
            Location = request.Location,
            Type = template.IsStreaming ? JobType.Streaming : JobType.Batch,
            CurrentState = JobState.Pending,
            CurrentStateTime = now,
            CreateTime = now,
            StartTime = now,
            Labels = labels,
            ReplaceJobId = replaced?.Id,
            TransformNameMapping = request.Update ? request.TransformNameMapping : null,
            Environment = new Dataflow.Environment
            {
                TempStoragePrefix = environment["tempLocation"]?.GetValue<string>(),
                ServiceAccountEmail = environment["serviceAccountEmail"]?.GetValue<string>(),
                WorkerRegion = environment["workerRegion"]?.GetValue<string>() ?? request.Location,
                WorkerZone = environment["workerZone"]?.GetValue<string>(),
                StreamingMode = environment["streamingMode"]?.GetValue<string>(),
                Experiments = environment["additionalExperiments"]?.Deserialize<List<string>>(DataflowJson.Options),
                SdkPipelineOptions = new Dictionary<string, JsonElement>(StringComparer.Ordinal)
                {
                    ["options"] = JsonSerializer.SerializeToElement(options, DataflowJson.Options),
                },
            },
            JobMetadata = new JobMetadata
            {
                SdkVersion = new SdkVersion { Version = "sluice-emulator", VersionDisplayName = "Sluice local emulator" },
                UserDisplayProperties = new Dictionary<string, string>(StringComparer.Ordinal) { ["templatePath"] = template.GcsPath },
            },
        };

        var numWorkers = Math.Max(1, request.NumWorkers ?? 1);
        var created = new EmulatedJob
        {
            Job = job,
            Command = JobProcess.ExpandCommand(template.Local.Command!, _options.SluiceHome, template.TemplateDirectory)
                .Concat(request.Parameters.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"--{pair.Key}={pair.Value}"))
                .ToList(),
            WorkingDirectory = _store.JobDirectory(id),
            Transforms = template.Local.Transforms ?? [],
            PendingReplaceJobId = replaced?.Id,
            MaxWorkers = Math.Max(numWorkers, request.MaxWorkers ?? numWorkers),
        };
        created.EnvironmentVariables = JobEnvironment(created, environment, numWorkers);
        return created;
    }

    private Dictionary<string, string> JobEnvironment(EmulatedJob job, JsonObject environment, int numWorkers)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["SLUICE_BUCKETS_DIR"] = BucketsDirectory,
            ["SLUICE_HOME"] = _options.SluiceHome,
            ["DATAFLOW_PROJECT_ID"] = job.Job.ProjectId!,
            ["DATAFLOW_LOCATION"] = job.Job.Location!,
            ["DATAFLOW_JOB_ID"] = job.Id,
            ["DATAFLOW_JOB_NAME"] = job.Job.Name!,
            ["DATAFLOW_JOB_TYPE"] = job.IsStreaming ? "STREAMING" : "BATCH",
            ["DATAFLOW_NUM_WORKERS"] = numWorkers.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                continue;
            }

            variables["DATAFLOW_" + ToUpperSnake(name)] = value switch
            {
                JsonArray array => string.Join(',', array.Select(item => item?.ToString())),
                JsonObject obj => obj.ToJsonString(),
                _ => value.ToString(),
            };
        }

        return variables;
    }

    private async Task RunJobAsync(EmulatedJob job)
    {
        try
        {
            if (job.PendingReplaceJobId is { } replacedId && !await ReplaceAsync(job, replacedId))
            {
                return;
            }

            Process process;
            lock (_gate)
            {
                if (job.StopReason != StopReason.None)
                {
                    // Cancelled (or the emulator stopped) before the process started.
                    Transition(job, job.StopReason == StopReason.Cancel ? JobState.Cancelled : JobState.Failed);
                    SaveLocked();
                    return;
                }
            }

            try
            {
                process = JobProcess.Start(job.Command, job.EnvironmentVariables, job.WorkingDirectory);
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
            {
                lock (_gate)
                {
                    AddMessage(job, JobMessageImportance.Error,
                        $"Could not start the job's local process '{job.Command[0]}': {ex.Message}. Check sluiceLocal.command of the template.");
                    Transition(job, JobState.Failed);
                    SaveLocked();
                }

                return;
            }

            bool killNow;
            lock (_gate)
            {
                _processes[job.Id] = process;
                job.ProcessId = process.Id;
                job.ProcessStartTime = new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
                killNow = job.StopReason != StopReason.None;
                SaveLocked();
            }

            if (killNow)
            {
                JobProcess.Kill(process);
            }

            _ = MarkRunningAfterAsync(job, _options.ReadyTimeout);
            var stdout = PumpAsync(job, process.StandardOutput, fromStderr: false);
            var stderr = PumpAsync(job, process.StandardError, fromStderr: true);
            await process.WaitForExitAsync(CancellationToken.None);
            await Task.WhenAll(stdout, stderr);
            OnExited(job, process.ExitCode);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Emulated job {JobId} failed inside the emulator", job.Id);
            lock (_gate)
            {
                if (!job.State.IsTerminal())
                {
                    AddMessage(job, JobMessageImportance.Error, $"The emulator failed to run the job: {ex.Message}");
                    Transition(job, JobState.Failed);
                    SaveLocked();
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                if (_processes.Remove(job.Id, out var process))
                {
                    process.Dispose();
                }
            }

            if (_exits.TryGetValue(job.Id, out var exited))
            {
                exited.TrySetResult();
            }
        }
    }

    /// <summary>The update handshake: check compatibility, stop the old job (SIGTERM), wait until it has exited.</summary>
    private async Task<bool> ReplaceAsync(EmulatedJob job, string replacedId)
    {
        Process? oldProcess;
        Task oldExited;
        lock (_gate)
        {
            var old = _jobs[replacedId];
            var missing = IncompatibleTransforms(old.Transforms, job.Transforms, job.Job.TransformNameMapping);
            if (missing.Count > 0)
            {
                old.PendingReplacedByJobId = null;
                job.PendingReplaceJobId = null;
                AddMessage(job, JobMessageImportance.Error,
                    $"Workflow failed. Causes: The new job is not compatible with job {old.Id}: the running job's transform(s) {string.Join(", ", missing)} "
                    + "have no counterpart in the new job. Pass a transform name mapping for renamed transforms, or launch the new version without update.");
                Transition(job, JobState.Failed);
                SaveLocked();
                return false;
            }

            if (!old.State.IsActive())
            {
                // The old job ended on its own meanwhile; the new one simply starts.
                job.PendingReplaceJobId = null;
                return true;
            }

            old.StopReason = StopReason.Update;
            AddMessage(old, JobMessageImportance.Basic, $"Job is being updated by job {job.Id}; finishing in-flight work.");
            _processes.TryGetValue(old.Id, out oldProcess);
            oldExited = _exits.TryGetValue(old.Id, out var tcs) ? tcs.Task : Task.CompletedTask;
            SaveLocked();
        }

        if (oldProcess is not null)
        {
            JobProcess.Terminate(oldProcess);
        }

        if (await Task.WhenAny(oldExited, Task.Delay(_options.UpdateGracePeriod, ProcessClock, CancellationToken.None)) != oldExited && oldProcess is not null)
        {
            JobProcess.Kill(oldProcess);
            await oldExited;
        }

        lock (_gate)
        {
            job.PendingReplaceJobId = null;
            SaveLocked();
        }

        return true;
    }

    private static List<string> IncompatibleTransforms(List<string> oldTransforms, List<string> newTransforms, Dictionary<string, string>? mapping)
    {
        if (oldTransforms.Count == 0 || newTransforms.Count == 0)
        {
            return [];
        }

        var available = newTransforms.ToHashSet(StringComparer.Ordinal);
        return oldTransforms.Where(name => !available.Contains(MapTransform(name, mapping))).ToList();
    }

    private static string MapTransform(string name, Dictionary<string, string>? mapping)
    {
        // Keys are transform name prefixes of the old job; the longest matching prefix wins.
        var match = mapping?.Where(pair => name.StartsWith(pair.Key, StringComparison.Ordinal))
            .OrderByDescending(pair => pair.Key.Length)
            .Select(pair => (KeyValuePair<string, string>?)pair)
            .FirstOrDefault();
        return match is { } pair ? pair.Value + name[pair.Key.Length..] : name;
    }

    private async Task PumpAsync(EmulatedJob job, StreamReader reader, bool fromStderr)
    {
        while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            lock (_gate)
            {
                MarkRunningLocked(job);
                switch (LineProtocol.Parse(line, fromStderr))
                {
                    case MessageLine message:
                        AddMessage(job, message.Importance, message.Text);
                        break;
                    case MetricLine metric:
                        RecordMetric(job, metric);
                        break;
                    case WorkersLine workers:
                        var target = Math.Clamp(workers.Workers, Math.Max(1, job.Job.RuntimeUpdatableParams?.MinNumWorkers ?? 1),
                            Math.Max(1, job.Job.RuntimeUpdatableParams?.MaxNumWorkers ?? job.MaxWorkers));
                        if (job.State == JobState.Running && target != job.CurrentWorkers)
                        {
                            SetWorkers(job, target, $"Autoscaling: resized the worker pool from {job.CurrentWorkers} to {target} workers.");
                        }

                        break;
                }
            }
        }
    }

    private async Task MarkRunningAfterAsync(EmulatedJob job, TimeSpan delay)
    {
        await Task.Delay(delay, ProcessClock, CancellationToken.None);
        lock (_gate)
        {
            MarkRunningLocked(job);
        }
    }

    /// <summary>
    /// A job is RUNNING once its process has printed its first line (by then it has set up its signal handling, so a
    /// drain reaches code that can finish in-flight work), or after <see cref="EmulatorOptions.ReadyTimeout"/>.
    /// </summary>
    private void MarkRunningLocked(EmulatedJob job)
    {
        if (job.State != JobState.Pending || job.StopReason != StopReason.None || !_processes.ContainsKey(job.Id))
        {
            return;
        }

        var workers = int.Parse(job.EnvironmentVariables["DATAFLOW_NUM_WORKERS"], CultureInfo.InvariantCulture);
        AddMessage(job, JobMessageImportance.Basic, $"Starting {workers} workers in {job.Job.Location}.");
        SetWorkers(job, workers, $"Autoscaling: started the worker pool with {workers} workers.");
        Transition(job, JobState.Running);
        AddMessage(job, JobMessageImportance.Basic, "Workers have started successfully.");
        SaveLocked();
    }

    private void OnExited(EmulatedJob job, int exitCode)
    {
        lock (_gate)
        {
            if (job.State.IsTerminal())
            {
                return;
            }

            JobState final;
            switch (job.StopReason)
            {
                case StopReason.Cancel:
                    final = JobState.Cancelled;
                    AddMessage(job, JobMessageImportance.Basic, "The job was cancelled; its local process was stopped.");
                    break;
                case StopReason.Drain when exitCode == 0:
                    final = JobState.Drained;
                    AddMessage(job, JobMessageImportance.Basic, "The job drained: its local process finished its in-flight work and exited.");
                    break;
                case StopReason.Update:
                    final = JobState.Updated;
                    job.Job.ReplacedByJobId = job.PendingReplacedByJobId;
                    job.PendingReplacedByJobId = null;
                    AddMessage(job, JobMessageImportance.Basic, $"The job was updated; job {job.Job.ReplacedByJobId} replaces it.");
                    break;
                case StopReason.EmulatorShutdown:
                    final = JobState.Failed;
                    AddMessage(job, JobMessageImportance.Error,
                        $"The emulator stopped while the job was running, so its local process was stopped (exit code {exitCode}); relaunch the job.");
                    break;
                default:
                    final = exitCode == 0 ? JobState.Done : JobState.Failed;
                    if (exitCode != 0)
                    {
                        AddMessage(job, JobMessageImportance.Error,
                            $"Workflow failed. Causes: the job's local process exited with code {exitCode}{(job.StopReason == StopReason.Drain ? " while draining" : "")}.");
                    }

                    break;
            }

            if (job.CurrentWorkers > 0)
            {
                SetWorkers(job, 0, "Worker pool stopped.");
            }

            Transition(job, final);
            SaveLocked();
        }
    }

    // ---- jobs.get / jobs.list ---------------------------------------------------------------------------------

    public Job GetJob(string projectId, string location, string jobId, JobView view)
    {
        lock (_gate)
        {
            return Snapshot(Find(projectId, location, jobId), view);
        }
    }

    public ListJobsResponse ListJobs(string projectId, string location, JobListFilter filter, string? name, int? pageSize, string? pageToken)
    {
        var size = PageSize(pageSize);
        var offset = PageOffset(pageToken);
        lock (_gate)
        {
            var jobs = _jobs.Values
                .Where(job => job.Job.ProjectId == projectId && job.Job.Location == location)
                .Where(job => string.IsNullOrEmpty(name) || job.Job.Name == name)
                .Where(job => filter switch
                {
                    JobListFilter.Active => job.State.IsActive(),
                    JobListFilter.Terminated => job.State.IsTerminal(),
                    _ => true,
                })
                // Active jobs first, newest first; then terminated jobs, most recently ended first.
                .OrderBy(job => job.State.IsActive() ? 0 : 1)
                .ThenByDescending(job => job.State.IsActive() ? job.Job.CreateTime : job.Job.CurrentStateTime)
                .ThenByDescending(job => job.Id, StringComparer.Ordinal)
                .ToList();
            var page = jobs.Skip(offset).Take(size).Select(job => Snapshot(job, JobView.Summary)).ToList();
            return new ListJobsResponse
            {
                Jobs = page.Count == 0 ? null : page,
                NextPageToken = offset + size < jobs.Count ? (offset + size).ToString(CultureInfo.InvariantCulture) : null,
            };
        }
    }

    // ---- jobs.update ------------------------------------------------------------------------------------------

    public Job UpdateJob(string projectId, string location, string jobId, Job body, string? updateMask)
    {
        var paths = (updateMask ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(path => ToSnake(path))
            .ToList();
        string[] updatable = ["runtime_updatable_params.min_num_workers", "runtime_updatable_params.max_num_workers", "runtime_updatable_params.worker_utilization_hint"];
        var unknown = paths.Where(path => !updatable.Contains(path)).ToList();
        if (unknown.Count > 0)
        {
            throw EmulatorException.InvalidArgument(
                $"The update mask names fields that cannot be updated: {string.Join(", ", unknown)}. Updatable: runtime_updatable_params.min_num_workers, runtime_updatable_params.max_num_workers, runtime_updatable_params.worker_utilization_hint (or an empty mask with requestedState).");
        }

        if (paths.Count > 0 && body.RequestedState is { } state && state != JobState.Unknown)
        {
            throw EmulatorException.InvalidArgument("A request cannot update both requestedState and the fields of an update mask; send them separately.");
        }

        Process? signal = null;
        var kill = false;
        Job answer;
        lock (_gate)
        {
            var job = Find(projectId, location, jobId);
            if (paths.Count > 0)
            {
                UpdateRuntimeParams(job, body.RuntimeUpdatableParams, paths);
            }
            else
            {
                var requested = body.RequestedState ?? JobState.Unknown;
                switch (requested)
                {
                    case JobState.Cancelled:
                        kill = RequestCancel(job, out signal);
                        break;
                    case JobState.Drained:
                    case JobState.Draining:
                        RequestDrain(job, out signal);
                        break;
                    case JobState.Unknown:
                        throw EmulatorException.InvalidArgument("requestedState is required: JOB_STATE_CANCELLED or JOB_STATE_DRAINED.");
                    default:
                        throw EmulatorException.InvalidArgument(
                            $"requestedState {requested.ToWireName()} cannot be requested; use JOB_STATE_CANCELLED or JOB_STATE_DRAINED.");
                }
            }

            SaveLocked();
            answer = Snapshot(job, JobView.All);
        }

        if (signal is not null)
        {
            if (kill)
            {
                JobProcess.Kill(signal);
            }
            else
            {
                JobProcess.Terminate(signal);
            }
        }

        return answer;
    }

    private bool RequestCancel(EmulatedJob job, out Process? process)
    {
        process = null;
        if (job.State.IsTerminal())
        {
            throw EmulatorException.FailedPrecondition(
                $"Cannot cancel job {job.Id}: Job has terminated in state {job.State.ToWireName()}.");
        }

        if (job.State == JobState.Cancelling)
        {
            return false;
        }

        RefuseWhileUpdating(job, "cancel");
        job.StopReason = StopReason.Cancel;
        Transition(job, JobState.Cancelling);
        AddMessage(job, JobMessageImportance.Basic, "Cancel requested; stopping the job's local process.");
        _processes.TryGetValue(job.Id, out process);
        return true;
    }

    private void RequestDrain(EmulatedJob job, out Process? process)
    {
        process = null;
        if (job.State.IsTerminal())
        {
            throw EmulatorException.FailedPrecondition(
                $"Cannot drain job {job.Id}: Job has terminated in state {job.State.ToWireName()}.");
        }

        if (job.State == JobState.Draining)
        {
            return;
        }

        if (!job.IsStreaming)
        {
            throw EmulatorException.FailedPrecondition(
                $"Cannot drain job {job.Id}: it is a batch job, and only streaming jobs can be drained; cancel it instead.");
        }

        if (job.State != JobState.Running)
        {
            throw EmulatorException.FailedPrecondition(
                $"Cannot drain job {job.Id} in state {job.State.ToWireName()}: only a running job can be drained.");
        }

        RefuseWhileUpdating(job, "drain");
        job.StopReason = StopReason.Drain;
        Transition(job, JobState.Draining);
        AddMessage(job, JobMessageImportance.Basic, "Drain requested; the job stops reading input and finishes its in-flight work.");
        _processes.TryGetValue(job.Id, out process);
    }

    private static void RefuseWhileUpdating(EmulatedJob job, string action)
    {
        if (job.PendingReplacedByJobId is { } other)
        {
            throw EmulatorException.FailedPrecondition($"Cannot {action} job {job.Id}: it is being updated by job {other}; wait until the update has finished.");
        }
    }

    private void UpdateRuntimeParams(EmulatedJob job, RuntimeUpdatableParams? requested, List<string> paths)
    {
        if (requested is null)
        {
            throw EmulatorException.InvalidArgument("The update mask names runtime_updatable_params but the body has no runtimeUpdatableParams.");
        }

        if (job.State != JobState.Running || !job.IsStreaming)
        {
            throw EmulatorException.FailedPrecondition(
                $"Runtime parameters can only be updated on a running streaming job; job {job.Id} is a {(job.IsStreaming ? "streaming" : "batch")} job in state {job.State.ToWireName()}.");
        }

        var current = job.Job.RuntimeUpdatableParams ?? new RuntimeUpdatableParams();
        var next = new RuntimeUpdatableParams
        {
            MinNumWorkers = paths.Contains("runtime_updatable_params.min_num_workers") ? requested.MinNumWorkers : current.MinNumWorkers,
            MaxNumWorkers = paths.Contains("runtime_updatable_params.max_num_workers") ? requested.MaxNumWorkers : current.MaxNumWorkers,
            WorkerUtilizationHint = paths.Contains("runtime_updatable_params.worker_utilization_hint") ? requested.WorkerUtilizationHint : current.WorkerUtilizationHint,
        };
        if (next.MinNumWorkers is < 1 || next.MaxNumWorkers is < 1 || next.MinNumWorkers > next.MaxNumWorkers)
        {
            throw EmulatorException.InvalidArgument(
                $"minNumWorkers ({next.MinNumWorkers}) and maxNumWorkers ({next.MaxNumWorkers}) must be at least 1, with min not above max.");
        }

        if (next.WorkerUtilizationHint is < 0.1 or > 0.9)
        {
            throw EmulatorException.InvalidArgument($"workerUtilizationHint {next.WorkerUtilizationHint} must be between 0.1 and 0.9.");
        }

        job.Job.RuntimeUpdatableParams = next;
        AddMessage(job, JobMessageImportance.Basic,
            $"Runtime parameters updated: minNumWorkers={next.MinNumWorkers?.ToString(CultureInfo.InvariantCulture) ?? "unset"}, maxNumWorkers={next.MaxNumWorkers?.ToString(CultureInfo.InvariantCulture) ?? "unset"}, workerUtilizationHint={next.WorkerUtilizationHint?.ToString(CultureInfo.InvariantCulture) ?? "unset"}.");
        var target = Math.Clamp(job.CurrentWorkers, next.MinNumWorkers ?? 1, next.MaxNumWorkers ?? int.MaxValue);
        if (target != job.CurrentWorkers)
        {
            SetWorkers(job, target, $"Autoscaling: resized the worker pool from {job.CurrentWorkers} to {target} workers to respect the new worker bounds.");
        }
    }

    // ---- jobs.messages.list / jobs.getMetrics / templates.get -----------------------------------------------------

    public ListJobMessagesResponse ListMessages(string projectId, string location, string jobId, JobMessageImportance? minimumImportance,
        DateTimeOffset? startTime, DateTimeOffset? endTime, int? pageSize, string? pageToken)
    {
        var size = PageSize(pageSize);
        var offset = PageOffset(pageToken);
        lock (_gate)
        {
            var job = Find(projectId, location, jobId);
            bool InWindow(DateTimeOffset? time) => (startTime is null || time >= startTime) && (endTime is null || time < endTime);
            var minimum = minimumImportance ?? JobMessageImportance.Unknown;
            var timeline = job.Messages
                .Where(message => (message.MessageImportance ?? JobMessageImportance.Unknown) >= minimum && InWindow(message.Time))
                .Select(message => (Time: message.Time ?? DateTimeOffset.MinValue, Message: (JobMessage?)message, Event: (AutoscalingEvent?)null))
                .Concat(job.AutoscalingEvents.Where(autoscaling => InWindow(autoscaling.Time))
                    .Select(autoscaling => (Time: autoscaling.Time ?? DateTimeOffset.MinValue, Message: (JobMessage?)null, Event: (AutoscalingEvent?)autoscaling)))
                .OrderBy(entry => entry.Time) // stable: equal times keep the order they were recorded in
                .ToList();
            var page = timeline.Skip(offset).Take(size).ToList();
            var messages = page.Where(entry => entry.Message is not null).Select(entry => Clone(entry.Message!)).ToList();
            var events = page.Where(entry => entry.Event is not null).Select(entry => Clone(entry.Event!)).ToList();
            return new ListJobMessagesResponse
            {
                JobMessages = messages.Count == 0 ? null : messages,
                AutoscalingEvents = events.Count == 0 ? null : events,
                NextPageToken = offset + size < timeline.Count ? (offset + size).ToString(CultureInfo.InvariantCulture) : null,
            };
        }
    }

    public JobMetrics GetMetrics(string projectId, string location, string jobId, DateTimeOffset? startTime)
    {
        lock (_gate)
        {
            var job = Find(projectId, location, jobId);
            var metrics = job.Metrics.Values
                .Where(metric => startTime is null || metric.UpdateTime >= startTime)
                .OrderBy(metric => metric.Name, StringComparer.Ordinal)
                .Select(metric => new MetricUpdate
                {
                    Name = new MetricStructuredName
                    {
                        Origin = metric.Origin,
                        Name = metric.Name,
                        Context = metric.Context is null ? null : new Dictionary<string, string>(metric.Context, StringComparer.Ordinal),
                    },
                    Kind = metric.Kind,
                    Cumulative = true,
                    Scalar = JsonSerializer.SerializeToElement(metric.Value),
                    UpdateTime = metric.UpdateTime,
                })
                .ToList();
            return new JobMetrics { MetricTime = _time.GetUtcNow(), Metrics = metrics.Count == 0 ? null : metrics };
        }
    }

    public GetTemplateResponse GetTemplate(string? gcsPath)
    {
        if (string.IsNullOrWhiteSpace(gcsPath))
        {
            throw EmulatorException.InvalidArgument("gcsPath is required: the Cloud Storage path of the template.");
        }

        var template = LocalTemplates.LoadAny(BucketsDirectory, gcsPath);
        return new GetTemplateResponse
        {
            Metadata = template.Metadata,
            TemplateType = template.Type,
            RuntimeMetadata = template.Type == TemplateType.Flex
                ? new RuntimeMetadata { SdkInfo = template.ContainerSpec?.SdkInfo, Parameters = template.Metadata?.Parameters }
                : null,
            Status = new Status { Code = 0 },
        };
    }

    /// <summary>Completes when the job's process (if any) has exited and its final state is recorded; for tests.</summary>
    internal Task WhenJobExitedAsync(string jobId)
    {
        lock (_gate)
        {
            return _exits.TryGetValue(jobId, out var exited) ? exited.Task : Task.CompletedTask;
        }
    }

    // ---- helpers (call under _gate) --------------------------------------------------------------------------

    private EmulatedJob Find(string projectId, string location, string jobId)
    {
        if (_jobs.TryGetValue(jobId, out var job) && job.Job.ProjectId == projectId && job.Job.Location == location)
        {
            return job;
        }

        throw EmulatorException.NotFound($"Job {jobId} was not found in project {projectId}, location {location}; check the job id and the region.");
    }

    private void Transition(EmulatedJob job, JobState state)
    {
        job.Job.CurrentState = state;
        job.Job.CurrentStateTime = _time.GetUtcNow();
        _logger.LogInformation("Job {JobId} ({JobName}) is now {State}", job.Id, job.Job.Name, state.ToWireName());
    }

    private void AddMessage(EmulatedJob job, JobMessageImportance importance, string text)
    {
        var message = new JobMessage
        {
            Id = (job.NextMessageId++).ToString(CultureInfo.InvariantCulture),
            Time = _time.GetUtcNow(),
            MessageText = text,
            MessageImportance = importance,
        };
        job.Messages.Add(message);
        _store.Append(job.Id, message, null);
        _dirty = true;
    }

    private void SetWorkers(EmulatedJob job, int workers, string description)
    {
        var now = _time.GetUtcNow();
        var previous = job.CurrentWorkers;
        job.CurrentWorkers = workers;
        foreach (var type in new[] { AutoscalingEventType.TargetNumWorkersChanged, AutoscalingEventType.CurrentNumWorkersChanged })
        {
            var autoscaling = new AutoscalingEvent
            {
                EventType = type,
                CurrentNumWorkers = type == AutoscalingEventType.TargetNumWorkersChanged ? previous : workers,
                TargetNumWorkers = workers,
                Description = new StructuredMessage { MessageText = description },
                Time = now,
                WorkerPool = "Regular",
            };
            job.AutoscalingEvents.Add(autoscaling);
            _store.Append(job.Id, null, autoscaling);
        }

        _dirty = true;
    }

    private void RecordMetric(EmulatedJob job, MetricLine line)
    {
        var key = line.Origin + "/" + line.Name + (line.Context is null ? "" : "/" + string.Join(",", line.Context.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => pair.Key + "=" + pair.Value)));
        if (!job.Metrics.TryGetValue(key, out var metric))
        {
            metric = new EmulatedMetric { Name = line.Name, Origin = line.Origin, Kind = line.IsCounter ? "Sum" : "Latest", Context = line.Context };
            job.Metrics[key] = metric;
        }

        metric.Value = line.IsCounter ? metric.Value + line.Value : line.Value;
        metric.UpdateTime = _time.GetUtcNow();
        _dirty = true;
    }

    private void SaveLocked()
    {
        _store.Save(JobStore.Serialize(_jobs.Values.OrderBy(job => job.Job.CreateTime)));
        _dirty = false;
    }

    private async Task FlushLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500), ProcessClock);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                lock (_gate)
                {
                    if (_dirty)
                    {
                        SaveLocked();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private static Job Snapshot(EmulatedJob job, JobView view)
    {
        var copy = Clone(job.Job);
        if (view is JobView.Summary or JobView.Unknown)
        {
            // Summaries carry no description data: labels and environment need JOB_VIEW_DESCRIPTION or JOB_VIEW_ALL.
            copy.Labels = null;
            copy.Environment = null;
            copy.TransformNameMapping = null;
        }

        return copy;
    }

    private static T Clone<T>(T value) =>
        JsonSerializer.Deserialize<T>(JsonSerializer.SerializeToUtf8Bytes(value, DataflowJson.Options), DataflowJson.Options)!;

    private static int PageSize(int? requested) => requested is > 0 ? Math.Min(requested.Value, MaxPageSize) : DefaultPageSize;

    private static int PageOffset(string? pageToken)
    {
        if (string.IsNullOrEmpty(pageToken))
        {
            return 0;
        }

        return int.TryParse(pageToken, NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            ? offset
            : throw EmulatorException.InvalidArgument($"pageToken '{pageToken}' is not one this server gave out; start again without a pageToken.");
    }

    private static string RandomDigits()
    {
        var value = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) % 9_000_000_000_000_000_000UL + 1_000_000_000_000_000_000UL;
        return value.ToString(CultureInfo.InvariantCulture);
    }

    private static string ToUpperSnake(string camel) => ToSnake(camel).ToUpperInvariant();

    private static string ToSnake(string name) => UpperLetter().Replace(name, match => "_" + match.Value.ToLowerInvariant()).TrimStart('_');

    [GeneratedRegex("^[a-z]([-a-z0-9]{0,1022}[a-z0-9])?$")]
    private static partial Regex JobNamePattern();

    [GeneratedRegex("[A-Z]")]
    private static partial Regex UpperLetter();
}
