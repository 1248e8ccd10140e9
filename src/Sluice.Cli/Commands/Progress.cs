using System.Globalization;
using System.Net;
using Sluice.Cli.Client;
using Sluice.Cli.Output;
using Sluice.Server.Api;

namespace Sluice.Cli.Commands;

/// <summary>Live progress of long waits (<c>apply --wait</c>, <c>rollback --wait</c>): polls the API and prints each change once.</summary>
internal sealed class Progress
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly CliContext _context;
    private readonly TextWriter _output;

    public Progress(CliContext context)
    {
        _context = context;
        // With -o json the final objects go to stdout; the progress lines must not mix into them.
        _output = context.Json ? context.Error : context.Out;
    }

    /// <summary>Waits until the event of a written object is handled (dispatched, rejected or ignored).</summary>
    public async Task<EventResource> WaitForEventAsync(AppliedManifestResource manifest, CancellationToken cancellationToken)
    {
        await WriteAsync($"waiting for Sluice to pick up {manifest.Bucket}/{manifest.Object} (generation {manifest.Generation})");
        while (true)
        {
            var events = await _context.Client.ListEventsAsync(null, manifest.Bucket, manifest.Object, manifest.Generation, 5, cancellationToken);
            // An event in state received is taken in but not yet handed to its flow; wait for what it becomes.
            if (events.Items.FirstOrDefault(e => e.Generation == manifest.Generation && e.Kind == "finalized" && e.State != "received") is { } recorded)
            {
                return recorded;
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    /// <summary>Follows a rollout (and the automatic rollback that may follow a failure) until it finishes.</summary>
    public async Task<RolloutResource> FollowRolloutAsync(string name, long? minimumGeneration, CancellationToken cancellationToken)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        string? lastState = null;
        while (true)
        {
            var rollout = await TryGetAsync(() => _context.Client.GetRolloutAsync(name, cancellationToken));
            if (rollout is not null && (minimumGeneration is null || rollout.Generation is null || rollout.Generation >= minimumGeneration))
            {
                if (rollout.State != lastState)
                {
                    lastState = rollout.State;
                    var versions = rollout.FromVersion is null ? $"first deploy of {rollout.ToVersion}" : $"{rollout.FromVersion} → {rollout.ToVersion}";
                    await WriteAsync($"{rollout.Kind} {rollout.Name} ({rollout.Pipeline} {versions}, {rollout.Strategy}): {rollout.State}");
                }

                foreach (var step in rollout.Steps ?? [])
                {
                    var key = $"{step.State}#{step.Attempt}";
                    if (seen.GetValueOrDefault(step.Name) == key)
                    {
                        continue;
                    }

                    seen[step.Name] = key;
                    var attempt = step.Attempt > 1 ? $" (attempt {step.Attempt})" : "";
                    var detail = step.Reason is not null ? $": {step.Reason}"
                        : step.DurationSeconds is { } d && step.FinishedAt is not null ? $" in {CliOutput.Duration(TimeSpan.FromSeconds(d))}" : "";
                    await WriteAsync($"  {step.Name} {step.State}{attempt}{detail}");
                }

                if (rollout.State is "succeeded" or "failed" or "cancelled")
                {
                    var summary = rollout.State == "succeeded"
                        ? $"{rollout.Kind} {rollout.Name} succeeded: {rollout.Pipeline} runs {rollout.ToVersion} as job {rollout.JobName} ({rollout.JobId})."
                        : $"{rollout.Kind} {rollout.Name} {rollout.State}: {rollout.Reason ?? "no reason given"}.";
                    await WriteAsync(summary);
                    if (rollout.RolledBackBy is { } rollback)
                    {
                        await WriteAsync($"following the automatic rollback {rollback}");
                        await FollowRolloutAsync(rollback, null, cancellationToken);
                    }

                    return rollout;
                }
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    /// <summary>Waits until a schedule shows the applied generation (or, for Unschedule, is unscheduled).</summary>
    public async Task<ScheduleResource> WaitForScheduleAsync(string dagId, long? minimumGeneration, bool unscheduled, CancellationToken cancellationToken)
    {
        while (true)
        {
            var schedule = await TryGetAsync(() => _context.Client.GetScheduleAsync(dagId, 0, cancellationToken));
            var done = schedule is not null && (unscheduled
                ? schedule.State == "unscheduled"
                : minimumGeneration is null || schedule.Generation is null || schedule.Generation >= minimumGeneration);
            if (done)
            {
                var next = schedule!.NextLogicalDate is { } n ? $"; next logical date {CliOutput.Time(n)}" : "";
                await WriteAsync(unscheduled
                    ? $"schedule {dagId} is unscheduled."
                    : $"schedule {dagId} is registered (revision {schedule.Revision.ToString(CultureInfo.InvariantCulture)}, {schedule.State}){next}.");
                return schedule;
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    public async Task WriteAsync(string line)
    {
        var time = CliContext.Now.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        await _output.WriteLineAsync($"{time}  {line}");
        await _output.FlushAsync();
    }

    private static async Task<T?> TryGetAsync<T>(Func<Task<T>> get)
        where T : class
    {
        try
        {
            return await get();
        }
        catch (SluiceApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // Not there yet: the bucket watcher has not started it.
            return null;
        }
    }

    /// <summary>Runs a wait with the user's timeout; a timeout is a failure with a clear sentence.</summary>
    public static async Task<T> WithTimeoutAsync<T>(TimeSpan timeout, string what, Func<CancellationToken, Task<T>> wait, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            return await wait(cts.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WaitTimeoutException($"Gave up waiting for {what} after {CliOutput.Duration(timeout)}; it goes on in the server — check it with 'sluice get rollouts' or 'sluice get events', or wait longer with --timeout.");
        }
    }
}

/// <summary>A --wait that ran out of time (exit code 1).</summary>
public sealed class WaitTimeoutException : Exception
{
    public WaitTimeoutException()
    {
    }

    public WaitTimeoutException(string message)
        : base(message)
    {
    }

    public WaitTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
