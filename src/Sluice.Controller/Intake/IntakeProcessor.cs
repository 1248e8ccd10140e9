using Microsoft.Extensions.Logging;
using Sluice.Buckets;
using Sluice.Manifests;

namespace Sluice.Controller.Intake;

/// <summary>What handling an event came to: a final state, or another attempt later.</summary>
public sealed record IntakeOutcome(IntakeEventState? State, string? Reason, IReadOnlyList<IntakeDispatch> Dispatches)
{
    /// <summary>The problems of an invalid manifest.</summary>
    public IReadOnlyList<ManifestProblem> Problems { get; init; } = [];

    public bool IsRetry => State is null;

    public static IntakeOutcome Dispatched(IReadOnlyList<IntakeDispatch> dispatches) => new(IntakeEventState.Dispatched, null, dispatches);

    public static IntakeOutcome Rejected(string reason) => new(IntakeEventState.Rejected, reason, []);

    public static IntakeOutcome Ignored(string reason, IReadOnlyList<IntakeDispatch>? dispatches = null) =>
        new(IntakeEventState.Ignored, reason, dispatches ?? []);

    /// <summary>A passing failure (the bucket or the store did not answer): try again later.</summary>
    public static IntakeOutcome Retry(string reason) => new(null, reason, []);
}

/// <summary>
/// Handles one event of the ledger: reads the object version, parses and validates its manifests, checks their
/// templates, and hands each document to its flow with the event's idempotency key. Safe to run again for the same
/// event (after a crash or a retry): the flows de-duplicate by key, and unscheduling is idempotent.
/// </summary>
public sealed class IntakeProcessor
{
    private readonly EventLedger _ledger;
    private readonly IntakeBuckets _buckets;
    private readonly ITemplateChecker _templates;
    private readonly IRolloutStarter? _rollouts;
    private readonly IScheduleRegistrar? _schedules;
    private readonly ILogger _logger;

    public IntakeProcessor(
        EventLedger ledger,
        IntakeBuckets buckets,
        ITemplateChecker templates,
        IEnumerable<IRolloutStarter> rollouts,
        IEnumerable<IScheduleRegistrar> schedules,
        ILogger<IntakeProcessor> logger)
    {
        _ledger = ledger;
        _buckets = buckets;
        _templates = templates;
        _rollouts = rollouts.LastOrDefault();
        _schedules = schedules.LastOrDefault();
        _logger = logger;
    }

    public async Task<IntakeOutcome> ProcessAsync(IntakeEvent intakeEvent, CancellationToken cancellationToken)
    {
        try
        {
            return intakeEvent.Change == ObjectChange.Deleted
                ? await ProcessDeletionAsync(intakeEvent, cancellationToken)
                : await ProcessVersionAsync(intakeEvent, cancellationToken);
        }
        catch (ManifestRefusedException e)
        {
            return IntakeOutcome.Rejected(e.Message);
        }
        catch (BucketException e) when (!e.IsTransient)
        {
            return IntakeOutcome.Rejected($"The object could not be read: {e.Message}");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning(e, "Handling {Event} failed; it will be tried again", intakeEvent.Location);
            return IntakeOutcome.Retry(e.Message);
        }
    }

    private async Task<IntakeOutcome> ProcessVersionAsync(IntakeEvent intakeEvent, CancellationToken cancellationToken)
    {
        var channel = _buckets.GetChannel(intakeEvent.Channel);
        var content = await _buckets.Get(channel.Name).ReadAsync(intakeEvent.ObjectName, intakeEvent.Generation, cancellationToken);
        if (content is null)
        {
            var newer = await _ledger.FindNewerGenerationAsync(intakeEvent.Bucket, intakeEvent.ObjectName, intakeEvent.Generation, cancellationToken);
            return IntakeOutcome.Ignored(newer is { } generation
                ? $"This version was replaced by version {generation} before it was read; the newer version is handled instead."
                : "This version was replaced or deleted before it was read; a newer version, if any, is handled instead.");
        }

        if (content.Content.Length == 0)
        {
            return IntakeOutcome.Rejected("The object is empty; write a Rollout or Schedule manifest into it.");
        }

        if (content.Content.Span.Contains((byte)0))
        {
            return IntakeOutcome.Rejected("The object is not text (it holds NUL bytes); upload a YAML or JSON manifest.");
        }

        var read = ManifestReader.Read(content.Text, intakeEvent.Location);
        if (!read.IsValid)
        {
            var first = read.Problems[0].ToString();
            var reason = read.Problems.Count == 1
                ? $"The manifest is not valid: {first}"
                : $"The manifest is not valid ({read.Problems.Count} problems): {first} …";
            return IntakeOutcome.Rejected(reason) with { Problems = read.Problems };
        }

        if (read.Manifests.Count == 0)
        {
            return IntakeOutcome.Rejected("The object holds no manifest; write a document with apiVersion: sluice/v1 and kind: Rollout or Schedule.");
        }

        var misplaced = read.Manifests.Where(m => !channel.Accepts(m.Kind)).ToArray();
        if (misplaced.Length > 0)
        {
            var first = misplaced[0];
            var home = _buckets.Channels.FirstOrDefault(c => c.Accepts(first.Kind));
            return IntakeOutcome.Rejected(
                $"{first.Kind} manifests do not belong in the {channel.Name} bucket ({channel.Uri})"
                + (home is null ? "." : $"; put '{first.Metadata.Name}' into the {home.Name} bucket ({home.Uri}) instead."));
        }

        var missing = await CheckTemplatesAsync(read.Manifests, cancellationToken);
        if (missing.Count > 0)
        {
            return IntakeOutcome.Rejected(string.Join('\n', missing));
        }

        // A transient failure can delay an older version past a newer one; the newer one wins.
        if (await _ledger.FindNewerGenerationAsync(intakeEvent.Bucket, intakeEvent.ObjectName, intakeEvent.Generation, cancellationToken) is { } replacedBy)
        {
            return IntakeOutcome.Ignored($"This version was replaced by version {replacedBy} before it could be handled; the newer version is handled instead.");
        }

        var previousTargets = await _ledger.GetCurrentTargetsAsync(intakeEvent.Bucket, intakeEvent.ObjectName, intakeEvent.Generation, cancellationToken);
        var dispatches = new List<IntakeDispatch>();
        var targets = new List<string>();
        for (var document = 0; document < read.Manifests.Count; document++)
        {
            var manifest = read.Manifests[document];
            switch (manifest)
            {
                case RolloutManifest rollout:
                    {
                        var starter = _rollouts ?? throw new ManifestRefusedException(
                            "This server has no rollout flow, so Rollout manifests cannot be handled; run a full 'sluice up'.");
                        var key = IntakeKeys.ForEvent(intakeEvent.Bucket, intakeEvent.ObjectName, intakeEvent.Generation, document);
                        var runId = await starter.StartAsync(rollout, key, intakeEvent.Location, cancellationToken);
                        dispatches.Add(new IntakeDispatch(document, "Rollout", rollout.Metadata.Name, rollout.Spec.Pipeline, IntakeActions.RolloutStarted, runId));
                        break;
                    }

                case ScheduleManifest schedule:
                    await RequireSchedules().RegisterAsync(schedule, intakeEvent.Location, cancellationToken);
                    dispatches.Add(new IntakeDispatch(document, "Schedule", schedule.Metadata.Name, schedule.Spec.DagId, IntakeActions.ScheduleRegistered));
                    targets.Add(ScheduleTarget(schedule.Spec.DagId));
                    break;

                case UnscheduleManifest unschedule:
                    await RequireSchedules().UnscheduleAsync(unschedule.DagId, unschedule.CancelRunning, cancellationToken);
                    dispatches.Add(new IntakeDispatch(document, "Unschedule", unschedule.Metadata.Name, unschedule.DagId, IntakeActions.Unscheduled));
                    break;

                default:
                    throw new ManifestRefusedException($"Manifests of kind {manifest.Kind} cannot be handled by intake.");
            }
        }

        // The bucket is the source of truth: a dagId the object no longer declares (and no other object does) goes away.
        if (previousTargets is not null)
        {
            foreach (var dropped in previousTargets.Except(targets, StringComparer.Ordinal))
            {
                if (TryParseScheduleTarget(dropped, out var dagId)
                    && !await _ledger.IsDeclaredElsewhereAsync(dropped, intakeEvent.Bucket, intakeEvent.ObjectName, cancellationToken))
                {
                    await RequireSchedules().UnscheduleAsync(dagId, cancelRunning: false, cancellationToken);
                    dispatches.Add(new IntakeDispatch(-1, "Schedule", "", dagId, IntakeActions.Unscheduled));
                }
            }

            await _ledger.ReplaceTargetsAsync(intakeEvent.Bucket, intakeEvent.ObjectName, intakeEvent.Generation, targets, cancellationToken);
        }

        return IntakeOutcome.Dispatched(dispatches);
    }

    private async Task<IntakeOutcome> ProcessDeletionAsync(IntakeEvent intakeEvent, CancellationToken cancellationToken)
    {
        var channel = _buckets.GetChannel(intakeEvent.Channel);
        var targets = await _ledger.GetPreviousTargetsAsync(intakeEvent.Id, cancellationToken);
        var dagIds = targets.Select(t => TryParseScheduleTarget(t, out var dagId) ? dagId : null).OfType<string>().ToArray();
        if (dagIds.Length == 0)
        {
            return IntakeOutcome.Ignored(channel.Accepts(ManifestKind.Schedule)
                ? "Nothing was registered from this object, so its deletion changes nothing."
                : "Deleting a Rollout manifest changes nothing that runs; use 'sluice rollback PIPELINE' to go back to the previous version.");
        }

        var dispatches = new List<IntakeDispatch>();
        var kept = new List<string>();
        foreach (var dagId in dagIds)
        {
            if (await _ledger.IsDeclaredElsewhereAsync(ScheduleTarget(dagId), intakeEvent.Bucket, intakeEvent.ObjectName, cancellationToken))
            {
                kept.Add(dagId);
                continue;
            }

            await RequireSchedules().UnscheduleAsync(dagId, cancelRunning: false, cancellationToken);
            dispatches.Add(new IntakeDispatch(0, "Schedule", "", dagId, IntakeActions.Unscheduled));
        }

        return dispatches.Count > 0
            ? IntakeOutcome.Dispatched(dispatches)
            : IntakeOutcome.Ignored($"The schedule(s) {string.Join(", ", kept)} are still declared by another object, so they stay.");
    }

    private async Task<List<string>> CheckTemplatesAsync(IReadOnlyList<Manifest> manifests, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        foreach (var manifest in manifests)
        {
            var template = manifest switch
            {
                RolloutManifest rollout => rollout.Spec.To.Template,
                ScheduleManifest schedule => schedule.Spec.Job.Template,
                _ => null,
            };
            if (template is not null && await _templates.CheckAsync(template, cancellationToken) is { } problem)
            {
                problems.Add($"{manifest.Kind} '{manifest.Metadata.Name}': {problem}");
            }
        }

        return problems;
    }

    private IScheduleRegistrar RequireSchedules() =>
        _schedules ?? throw new ManifestRefusedException(
            "This server has no schedule flow, so Schedule manifests cannot be handled; run a full 'sluice up'.");

    internal static string ScheduleTarget(string dagId) => "schedule:" + dagId;

    internal static bool TryParseScheduleTarget(string target, out string dagId)
    {
        if (target.StartsWith("schedule:", StringComparison.Ordinal))
        {
            dagId = target["schedule:".Length..];
            return true;
        }

        dagId = "";
        return false;
    }
}
