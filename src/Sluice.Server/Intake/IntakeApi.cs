using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Sluice.Buckets;
using Sluice.Controller.Intake;
using Sluice.Server.Api;
using Sluice.Server.Auth;

namespace Sluice.Server.Intake;

/// <summary>
/// <c>/v1/events</c> (the ledger), <c>/v1/manifests</c> (apply and validate) and <c>/v1/push/…</c> (Cloud Storage
/// notifications by Pub/Sub push or Eventarc).
/// </summary>
internal static class IntakeApi
{
    private const int MaxPushBytes = 1024 * 1024;

    public static void Map(RouteGroupBuilder api)
    {
        var events = api.MapGroup("/events").WithTags("Events");
        events.MapGet("", ListEventsAsync).WithName("ListEvents").WithSummary("Bucket events, newest first, with what became of them");
        events.MapGet("/{id:long}", GetEventAsync).WithName("GetEvent");

        var manifests = api.MapGroup("/manifests").WithTags("Manifests");
        manifests.MapPost("", ApplyAsync).RequireAuthorization(SluicePolicies.Operator)
            .WithName("ApplyManifests").WithSummary("Validate manifests and write each document into its watched bucket (dryRun: plan only)");
        manifests.MapPost("/validate", ValidateAsync).WithName("ValidateManifests").WithSummary("Check manifests as apply would; write nothing");

        // Pub/Sub and Eventarc cannot send a Sluice token; they may use the shared push token instead (checked below).
        var push = api.MapGroup("/push").WithTags("Push").AllowAnonymous();
        push.MapPost("/pubsub", PubSubAsync).WithName("PushPubSub").WithSummary("A Pub/Sub push message of a Cloud Storage notification");
        push.MapPost("/eventarc", EventarcAsync).WithName("PushEventarc").WithSummary("An Eventarc CloudEvent of Cloud Storage");
    }

    private static async Task<Results<Ok<ListResponse<EventResource>>, ProblemHttpResult>> ListEventsAsync(
        HttpContext context, EventLedger ledger, string? channel, string? bucket, string? @object, long? generation, int? limit, string? cursor,
        CancellationToken cancellationToken)
    {
        var states = new List<IntakeEventState>();
        foreach (var text in context.Request.Query["state"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!IntakeNames.TryParseState(text, out var state))
            {
                return SluiceProblems.BadRequest($"'{text}' is not an event state; use received, dispatched, rejected or ignored.");
            }

            states.Add(state);
        }

        long? before = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            if (!long.TryParse(cursor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
            {
                return SluiceProblems.BadRequest($"'{cursor}' is not a cursor of this list; pass the nextCursor of the previous page.");
            }

            before = id;
        }

        if (limit is < 1 or > 1000)
        {
            return SluiceProblems.BadRequest($"limit must be between 1 and 1000 (got {limit}).");
        }

        if (channel is not null and not (IntakeChannel.Rollouts or IntakeChannel.Schedules))
        {
            return SluiceProblems.BadRequest($"'{channel}' is not a channel; use rollouts or schedules.");
        }

        var page = await ledger.ListAsync(
            new IntakeEventQuery
            {
                Channel = channel,
                States = states,
                Bucket = bucket,
                ObjectName = @object,
                Generation = generation,
                BeforeId = before,
                Limit = limit ?? 50,
            },
            cancellationToken);
        return TypedResults.Ok(new ListResponse<EventResource>(
            page.Events.Select(e => e.ToResource()).ToArray(),
            page.NextBeforeId?.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static async Task<Results<Ok<EventResource>, ProblemHttpResult>> GetEventAsync(long id, EventLedger ledger, CancellationToken cancellationToken) =>
        await ledger.GetAsync(id, cancellationToken) is { } e
            ? TypedResults.Ok(e.ToResource())
            : SluiceProblems.NotFound("event", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "list them with 'sluice get events'");

    private static async Task<Results<Ok<ApplyResponse>, ProblemHttpResult>> ApplyAsync(
        ApplyRequest request, ManifestApplier applier, bool? dryRun, CancellationToken cancellationToken)
    {
        var files = (request.Files ?? []).Select(f => new ManifestFile(f.Path ?? "manifest", f.Content ?? "")).ToArray();
        var isDryRun = request.DryRun || dryRun == true;
        ApplyResult result;
        try
        {
            result = await applier.ApplyAsync(files, isDryRun, cancellationToken);
        }
        catch (BucketException e)
        {
            return TypedResults.Problem(
                statusCode: e.IsTransient ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status502BadGateway,
                title: "Bucket error",
                detail: $"The manifests could not be written into the watched bucket: {e.Message}");
        }

        if (!result.IsValid)
        {
            return Invalid(result);
        }

        return TypedResults.Ok(new ApplyResponse(result.DryRun, result.Manifests.Select(m => m.ToResource()).ToArray()));
    }

    private static async Task<Ok<ValidateResponse>> ValidateAsync(ApplyRequest request, ManifestApplier applier, CancellationToken cancellationToken)
    {
        var files = (request.Files ?? []).Select(f => new ManifestFile(f.Path ?? "manifest", f.Content ?? "")).ToArray();
        var result = await applier.ValidateAsync(files, cancellationToken);
        return TypedResults.Ok(new ValidateResponse(result.IsValid, result.DocumentCount, result.Problems.Select(p => p.ToResource()).ToArray()));
    }

    internal static ProblemHttpResult Invalid(ApplyResult result)
    {
        var problems = result.Problems.Select(p => p.ToResource()).ToArray();
        var detail = problems.Length == 1
            ? $"The manifest is not valid: {problems[0]}; fix it and apply again."
            : $"{problems.Length} problems in the manifests (listed in problems); fix them and apply again — nothing was written.";
        return SluiceProblems.Invalid(detail, problems);
    }

    private static async Task<IResult> PubSubAsync(HttpContext context, PushReceiver receiver, CancellationToken cancellationToken)
    {
        if (receiver.Authorize(context) is { } refused)
        {
            return refused;
        }

        var body = await ReadBodyAsync(context.Request, cancellationToken);
        return body is null
            ? SluiceProblems.BadRequest($"The push body is larger than {MaxPushBytes / 1024} KiB; a Pub/Sub message of a Cloud Storage notification is much smaller.")
            : await receiver.ReceiveAsync(PubSubPush.Parse(body, receiver.Time), BucketEventSources.PubSub, cancellationToken);
    }

    private static async Task<IResult> EventarcAsync(HttpContext context, PushReceiver receiver, CancellationToken cancellationToken)
    {
        if (receiver.Authorize(context) is { } refused)
        {
            return refused;
        }

        var body = await ReadBodyAsync(context.Request, cancellationToken);
        if (body is null)
        {
            return SluiceProblems.BadRequest($"The push body is larger than {MaxPushBytes / 1024} KiB; a CloudEvent of Cloud Storage is much smaller.");
        }

        var headers = context.Request.Headers.Select(h => new KeyValuePair<string, string>(h.Key, h.Value.ToString())).ToArray();
        return await receiver.ReceiveAsync(EventarcCloudEvent.Parse(headers, body, receiver.Time), BucketEventSources.Eventarc, cancellationToken);
    }

    private static async Task<string?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxPushBytes)
        {
            return null;
        }

        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var buffer = new char[MaxPushBytes + 1];
        var total = 0;
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
            if (total > MaxPushBytes)
            {
                return null;
            }
        }

        return new string(buffer, 0, total);
    }
}

/// <summary>The answer to a push: what became of the notification.</summary>
/// <param name="Outcome">accepted (taken into the ledger), ignored (nothing to do), rejected (not a usable notification; acknowledged so that it is not redelivered).</param>
public sealed record PushResponse(string Outcome, string? Reason = null, IReadOnlyList<PushedEventResource>? Events = null);

/// <summary>One event of a push and its ledger entry.</summary>
public sealed record PushedEventResource(string Bucket, string Object, long Generation, string Kind, long? EventId, string State, bool Duplicate);

/// <summary>Checks who may push, and takes pushed events into the ledger.</summary>
internal sealed class PushReceiver
{
    private readonly IntakeService _intake;
    private readonly IntakeBuckets _buckets;
    private readonly IntakeOptions _options;
    private readonly ILogger _logger;

    public PushReceiver(IntakeService intake, IntakeBuckets buckets, IntakeOptions options, TimeProvider time, ILogger<PushReceiver> logger)
    {
        _intake = intake;
        _buckets = buckets;
        _options = options;
        Time = time;
        _logger = logger;
    }

    public TimeProvider Time { get; }

    /// <summary>Null when the caller may push: an operator token, or the configured push token in <c>?token=</c>.</summary>
    public IResult? Authorize(HttpContext context)
    {
        if (context.User.HasRole(SluiceRole.Operator))
        {
            return null;
        }

        var given = context.Request.Query["token"].ToString();
        if (_options.PushToken is { Length: > 0 } expected && given.Length > 0
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected)))
        {
            return null;
        }

        if (context.User.Identity?.IsAuthenticated == true)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Forbidden",
                detail: "Pushing events needs an operator token or the push token; ask an admin for one.");
        }

        return TypedResults.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Unauthorized",
            detail: given.Length > 0
                ? "The push token does not match; use the intake.pushToken setting of the server in ?token=."
                : "Push endpoints need 'Authorization: Bearer <operator token>' or ?token=<the server's intake.pushToken setting>.");
    }

    public async Task<IResult> ReceiveAsync(BucketPushResult push, string source, CancellationToken cancellationToken)
    {
        switch (push.Outcome)
        {
            case BucketPushOutcome.Rejected:
                // Redelivery cannot make it valid; acknowledge it so that Pub/Sub does not retry it for days.
                _logger.LogWarning("Rejected a {Source} push (message {MessageId}): {Reason}", source, push.MessageId, push.Reason);
                return TypedResults.Ok(new PushResponse("rejected", push.Reason));
            case BucketPushOutcome.Ignored:
                return TypedResults.Ok(new PushResponse("ignored", push.Reason));
        }

        var results = new List<PushedEventResource>();
        foreach (var bucketEvent in push.Events)
        {
            var item = bucketEvent.Object;
            var kind = bucketEvent.Kind == BucketEventKind.Deleted ? ObjectChange.Deleted : ObjectChange.Finalized;
            if (_buckets.FindChannel(item.Bucket, item.Name) is not { } channel)
            {
                results.Add(new PushedEventResource(item.Bucket, item.Name, item.Generation, kind.ToStored(), null, "ignored", false));
                continue;
            }

            var observed = bucketEvent.ObservedAt == default ? Time.GetUtcNow() : bucketEvent.ObservedAt;
            IntakeEvent intakeEvent;
            bool created;
            try
            {
                (intakeEvent, created) = await _intake.IngestAsync(new IncomingEvent(channel.Name, kind, item, source, observed), cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Not acknowledged: Pub/Sub (or Eventarc) delivers it again, and the ledger de-duplicates what got in.
                _logger.LogError(e, "Could not record the {Source} event of {Object}", source, item);
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "Service unavailable",
                    detail: $"The event of {item} could not be recorded now ({e.Message}); deliver it again later.");
            }

            results.Add(new PushedEventResource(item.Bucket, item.Name, item.Generation, kind.ToStored(), intakeEvent.Id, intakeEvent.State.ToStored(), !created));
        }

        var accepted = results.Any(r => r.EventId is not null);
        return TypedResults.Ok(new PushResponse(
            accepted ? "accepted" : "ignored",
            accepted ? null : "The object is not in a watched bucket (or under its prefix); nothing to do.",
            results));
    }
}
