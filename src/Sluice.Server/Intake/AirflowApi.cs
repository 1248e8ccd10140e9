using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Buckets;
using Sluice.Controller.Intake;
using Sluice.Controller.Schedules;
using Sluice.Engine;
using Sluice.Manifests;
using Sluice.Server.Auth;

namespace Sluice.Server.Intake;

/// <summary>
/// The part of Airflow's stable REST API (<c>/api/v1</c>) that Cloud Functions written for Cloud Composer call, so that
/// they work when pointed at Sluice. DAG <c>deployer</c> takes Rollout manifests, <c>controller</c> Schedule manifests
/// (both through the watched buckets and the event ledger, so each is handled exactly once), and every schedule is a
/// DAG of its own whose runs are its slots.
/// </summary>
internal sealed class AirflowApi
{
    public const string Deployer = "deployer";
    public const string Controller = "controller";
    private const string ErrorsLink = "https://airflow.apache.org/docs/apache-airflow/stable/stable-rest-api-ref.html#section/Errors/";
    private static readonly string[] DagRunOrderFields = ["id", "dag_run_id", "execution_date", "logical_date", "start_date", "end_date", "state"];

    private readonly EventLedger _ledger;
    private readonly IntakeService _intake;
    private readonly IntakeBuckets _buckets;
    private readonly ManifestApplier _applier;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;

    public AirflowApi(
        EventLedger ledger, IntakeService intake, IntakeBuckets buckets, ManifestApplier applier, IServiceProvider services, TimeProvider time)
    {
        _ledger = ledger;
        _intake = intake;
        _buckets = buckets;
        _applier = applier;
        _services = services;
        _time = time;
    }

    private ScheduleService? Schedules => _services.GetService<ScheduleService>();

    private WorkflowEngine Engine => _services.GetRequiredService<WorkflowEngine>();

    public static void Map(IEndpointRouteBuilder root)
    {
        var api = root.MapGroup("/api/v1").WithTags("Airflow-compatible").RequireAuthorization(SluicePolicies.Viewer);
        api.MapGet("/dags", (AirflowApi a, HttpContext c, CancellationToken ct) => a.ListDagsAsync(c, ct))
            .WithName("AirflowListDags").WithSummary("Airflow: list DAGs (deployer, controller and every schedule)");
        api.MapGet("/dags/{dag_id}", (AirflowApi a, [FromRoute(Name = "dag_id")] string dagId, CancellationToken ct) => a.GetDagAsync(dagId, ct))
            .WithName("AirflowGetDag");
        api.MapPatch("/dags/{dag_id}", (AirflowApi a, HttpContext c, [FromRoute(Name = "dag_id")] string dagId, CancellationToken ct) => a.PatchDagAsync(c, dagId, ct))
            .RequireAuthorization(SluicePolicies.Operator).WithName("AirflowPatchDag").WithSummary("Airflow: pause or unpause a schedule");
        api.MapGet("/dags/{dag_id}/dagRuns", (AirflowApi a, HttpContext c, [FromRoute(Name = "dag_id")] string dagId, CancellationToken ct) => a.ListDagRunsAsync(c, dagId, ct))
            .WithName("AirflowListDagRuns");
        api.MapPost("/dags/{dag_id}/dagRuns", (AirflowApi a, HttpContext c, [FromRoute(Name = "dag_id")] string dagId, CancellationToken ct) => a.TriggerAsync(c, dagId, ct))
            .RequireAuthorization(SluicePolicies.Operator).WithName("AirflowTriggerDagRun").WithSummary("Airflow: trigger a DAG run (deployer: a rollout, controller: a schedule, or a schedule's run)");
        api.MapGet("/dags/{dag_id}/dagRuns/{dag_run_id}", (AirflowApi a, [FromRoute(Name = "dag_id")] string dagId, [FromRoute(Name = "dag_run_id")] string dagRunId, CancellationToken ct) => a.GetDagRunAsync(dagId, dagRunId, ct))
            .WithName("AirflowGetDagRun");
        api.MapGet("/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances", (AirflowApi a, [FromRoute(Name = "dag_id")] string dagId, [FromRoute(Name = "dag_run_id")] string dagRunId, CancellationToken ct) => a.ListTaskInstancesAsync(dagId, dagRunId, ct))
            .WithName("AirflowListTaskInstances");
    }

    // ---- DAGs ----

    private async Task<IResult> ListDagsAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var query = context.Request.Query;
        if (!TryPage(query, out var limit, out var offset, out var pageError))
        {
            return pageError;
        }

        IEnumerable<AirflowDag> dags = await AllDagsAsync(cancellationToken);
        if (query["paused"].ToString() is { Length: > 0 } pausedText)
        {
            if (!bool.TryParse(pausedText, out var paused))
            {
                return BadRequest($"paused must be true or false (got '{pausedText}').");
            }

            dags = dags.Where(d => d.IsPaused == paused);
        }

        if (query["dag_id_pattern"].ToString() is { Length: > 0 } pattern)
        {
            dags = dags.Where(d => d.DagId.Contains(pattern, StringComparison.OrdinalIgnoreCase));
        }

        var tags = query["tags"].Where(t => !string.IsNullOrEmpty(t)).ToArray();
        if (tags.Length > 0)
        {
            dags = dags.Where(d => d.Tags.Any(t => tags.Contains(t.Name, StringComparer.Ordinal)));
        }

        var orderBy = query["order_by"].ToString();
        dags = orderBy switch
        {
            "" or "dag_id" => dags.OrderBy(d => d.DagId, StringComparer.Ordinal),
            "-dag_id" => dags.OrderByDescending(d => d.DagId, StringComparer.Ordinal),
            _ => [],
        };
        if (orderBy is not ("" or "dag_id" or "-dag_id"))
        {
            return BadRequest($"Ordering with '{orderBy}' is disallowed or the attribute does not exist on the model");
        }

        var all = dags.ToArray();
        return Json(new AirflowDagCollection(all.Skip(offset).Take(limit).ToArray(), all.Length));
    }

    private async Task<IResult> GetDagAsync(string dagId, CancellationToken cancellationToken) =>
        await FindDagAsync(dagId, cancellationToken) is { } dag
            ? Json(dag)
            : NotFound("DAG not found", $"The DAG with dag_id: {dagId} was not found");

    private async Task<IResult> PatchDagAsync(HttpContext context, string dagId, CancellationToken cancellationToken)
    {
        var mask = context.Request.Query["update_mask"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        if (mask.Length > 0 && !(mask.Length == 1 && mask[0] == "is_paused"))
        {
            return BadRequest("Only `is_paused` field can be updated through the REST API");
        }

        var body = await ReadObjectAsync(context, cancellationToken);
        if (body.Error is { } error)
        {
            return error;
        }

        if (body.Value!["is_paused"] is not JsonValue pausedValue || !pausedValue.TryGetValue<bool>(out var paused))
        {
            return BadRequest("{'is_paused': ['Not a valid boolean.']} — send {\"is_paused\": true} or {\"is_paused\": false}.");
        }

        if (dagId is Deployer or Controller)
        {
            return BadRequest($"The {dagId} DAG cannot be paused: Sluice handles bucket events as they arrive. Pause a schedule's own DAG instead.");
        }

        if (Schedules is not { } schedules)
        {
            return NotFound("Not Found", $"Dag with id: '{dagId}' not found");
        }

        var found = paused ? await schedules.PauseAsync(dagId, cancellationToken) : await schedules.UnpauseAsync(dagId, cancellationToken);
        if (!found)
        {
            return NotFound("Not Found", $"Dag with id: '{dagId}' not found");
        }

        return await GetDagAsync(dagId, cancellationToken);
    }

    private async Task<List<AirflowDag>> AllDagsAsync(CancellationToken cancellationToken)
    {
        var dags = new List<AirflowDag> { IntakeDag(Deployer), IntakeDag(Controller) };
        if (Schedules is { } schedules)
        {
            dags.AddRange((await schedules.ListAsync(cancellationToken)).Select(ScheduleDag));
        }

        return dags;
    }

    private async Task<AirflowDag?> FindDagAsync(string dagId, CancellationToken cancellationToken)
    {
        if (dagId is Deployer or Controller)
        {
            return IntakeDag(dagId);
        }

        return Schedules is { } schedules && await schedules.GetAsync(dagId, cancellationToken) is { } info ? ScheduleDag(info) : null;
    }

    private AirflowDag IntakeDag(string dagId)
    {
        var kind = dagId == Deployer ? ManifestKind.Rollout : ManifestKind.Schedule;
        var channel = _buckets.ChannelFor(kind);
        return new AirflowDag
        {
            DagId = dagId,
            DagDisplayName = dagId,
            IsPaused = false,
            Fileloc = channel.Uri.ToString(),
            Description = dagId == Deployer
                ? "Rolls a pipeline out. conf: a Rollout manifest (YAML string or JSON object), or a Cloud Storage event {bucket, name, generation} of a manifest object."
                : "Registers or removes a schedule. conf: a Schedule or Unschedule manifest (YAML string or JSON object), or a Cloud Storage event {bucket, name, generation} of a manifest object.",
            TimetableDescription = "Never, external triggers only",
            Tags = [new AirflowTag("sluice"), new AirflowTag(dagId == Deployer ? "rollouts" : "schedules")],
        };
    }

    private static AirflowDag ScheduleDag(ScheduleInfo info) => new()
    {
        DagId = info.DagId,
        DagDisplayName = info.DagId,
        IsPaused = info.Paused,
        Fileloc = info.Source,
        Description = $"Schedule {info.DagId}: one Dataflow job per slot from {info.Spec.Job.Template.GcsPath}.",
        ScheduleInterval = ScheduleInterval(info.Spec.Schedule),
        TimetableDescription = $"{info.Spec.Schedule} ({info.Spec.TimeZone})",
        Tags = [new AirflowTag("sluice"), new AirflowTag("schedule")],
        MaxActiveTasks = 16,
        MaxActiveRuns = info.Spec.MaxActiveRuns,
        NextDagrun = AirflowJson.Format(info.NextSlot?.LogicalDate),
        NextDagrunDataIntervalStart = AirflowJson.Format(info.NextSlot?.LogicalDate),
        NextDagrunDataIntervalEnd = AirflowJson.Format(info.NextSlot?.DueAt),
        NextDagrunCreateAfter = AirflowJson.Format(info.NextSlot?.DueAt),
    };

    /// <summary>Airflow's ScheduleInterval: a TimeDelta for ISO durations, a CronExpression for cron and presets.</summary>
    private static JsonObject ScheduleInterval(string schedule)
    {
        if (schedule.StartsWith('P'))
        {
            try
            {
                var span = XmlConvert.ToTimeSpan(schedule);
                return new JsonObject
                {
                    ["__type"] = "TimeDelta",
                    ["days"] = span.Days,
                    ["seconds"] = (int)(span - TimeSpan.FromDays(span.Days)).TotalSeconds,
                    ["microseconds"] = 0,
                };
            }
            catch (FormatException)
            {
                // Not an exact duration (P1M); show it as written.
            }
        }

        return new JsonObject { ["__type"] = "CronExpression", ["value"] = schedule };
    }

    // ---- DAG runs ----

    private async Task<IResult> TriggerAsync(HttpContext context, string dagId, CancellationToken cancellationToken)
    {
        var body = await ReadObjectAsync(context, cancellationToken);
        if (body.Error is { } error)
        {
            return error;
        }

        var request = body.Value!;
        if (!TryDate(request, "logical_date", out var logical, out error) || !TryDate(request, "execution_date", out var execution, out error))
        {
            return error!;
        }

        if (logical is not null && execution is not null && logical != execution)
        {
            return BadRequest("logical_date and execution_date differ; give only logical_date.");
        }

        var logicalDate = TruncateToMicroseconds(logical ?? execution ?? _time.GetUtcNow());
        string? dagRunId = null;
        if (request["dag_run_id"] is { } idNode)
        {
            if (idNode is not JsonValue idValue || !idValue.TryGetValue<string>(out var text) || text.Trim().Length == 0)
            {
                return BadRequest("{'dag_run_id': ['Not a valid string.']} — give a non-empty string, or leave dag_run_id out.");
            }

            dagRunId = text.Trim();
        }

        var conf = request["conf"];
        if (conf is not null and not JsonObject && !(dagId is Deployer or Controller && conf is JsonValue v && v.TryGetValue<string>(out _)))
        {
            return BadRequest("{'conf': ['Not a valid mapping type.']} — conf must be a JSON object.");
        }

        if (dagId is Deployer or Controller)
        {
            return await TriggerIntakeAsync(dagId, dagRunId, logicalDate, conf, cancellationToken);
        }

        if (Schedules is not { } schedules || await schedules.GetAsync(dagId, cancellationToken) is null)
        {
            return NotFound("DAG not found", $"DAG with dag_id: '{dagId}' not found");
        }

        if (dagRunId is not null && await _ledger.GetDagRunAsync(dagId, dagRunId, cancellationToken) is not null)
        {
            return AlreadyExists($"DAGRun with DAG ID: '{dagId}' and DAGRun ID: '{dagRunId}' already exists");
        }

        TriggerResult result;
        try
        {
            using var confDocument = conf is null ? null : JsonDocument.Parse(conf.ToJsonString());
            result = await schedules.TriggerAsync(dagId, logicalDate, confDocument?.RootElement.Clone(), cancellationToken);
        }
        catch (ScheduleException e)
        {
            return BadRequest(e.Message);
        }

        if (!result.Created)
        {
            return AlreadyExists($"DAGRun with DAG ID: '{dagId}' and DAGRun logical date: '{FormatSpaced(result.LogicalDate)}' already exists");
        }

        dagRunId ??= "manual__" + AirflowJson.Format(result.LogicalDate);
        var record = new DagRunRecord(dagId, dagRunId, result.LogicalDate, conf?.ToJsonString(), result.RunId, null, null, null, _time.GetUtcNow());
        if (!await _ledger.TryInsertDagRunAsync(record, cancellationToken))
        {
            return AlreadyExists($"DAGRun with DAG ID: '{dagId}' and DAGRun ID: '{dagRunId}' already exists");
        }

        var slot = await schedules.GetSlotAsync(dagId, result.LogicalDate, cancellationToken);
        return Json(slot is null ? IntakeRun(record, null, null) : SlotRun(slot, record));
    }

    private async Task<IResult> TriggerIntakeAsync(string dagId, string? dagRunId, DateTimeOffset logicalDate, JsonNode? conf, CancellationToken cancellationToken)
    {
        dagRunId ??= "manual__" + AirflowJson.Format(logicalDate);
        if (await _ledger.GetDagRunAsync(dagId, dagRunId, cancellationToken) is not null)
        {
            return AlreadyExists($"DAGRun with DAG ID: '{dagId}' and DAGRun ID: '{dagRunId}' already exists");
        }

        if (await _ledger.FindDagRunByLogicalDateAsync(dagId, logicalDate, cancellationToken) is not null)
        {
            return AlreadyExists($"DAGRun with DAG ID: '{dagId}' and DAGRun logical date: '{FormatSpaced(logicalDate)}' already exists");
        }

        var what = dagId == Deployer ? "a Rollout manifest" : "a Schedule or Unschedule manifest";
        if (conf is null)
        {
            return BadRequest($"The {dagId} DAG needs conf: {what} (YAML as a string, or a JSON object), or a Cloud Storage event {{\"bucket\", \"name\", \"generation\"}} of a manifest object.");
        }

        BucketObject target;
        if (conf is JsonObject storageEvent && storageEvent["bucket"] is JsonValue && storageEvent["name"] is JsonValue
            && storageEvent["kind"] is not JsonValue { } && storageEvent["apiVersion"] is null)
        {
            var located = await LocateObjectAsync(storageEvent, cancellationToken);
            if (located.Error is { } error)
            {
                return error;
            }

            target = located.Object!;
            await _intake.IngestAsync(
                new IncomingEvent(located.Channel!.Name, ObjectChange.Finalized, target, "airflow", _time.GetUtcNow()), cancellationToken);
        }
        else
        {
            var text = conf is JsonValue value && value.TryGetValue<string>(out var yaml) ? yaml : conf.ToJsonString();
            var path = $"conf of {dagId} run {dagRunId}";
            var read = ManifestReader.Read(text, path);
            if (read.IsValid)
            {
                var wanted = dagId == Deployer ? [ManifestKind.Rollout] : new[] { ManifestKind.Schedule, ManifestKind.Unschedule };
                if (read.Manifests.Count != 1)
                {
                    return BadRequest($"conf holds {read.Manifests.Count} manifests; trigger one run per manifest.");
                }

                if (!wanted.Contains(read.Manifests[0].Kind))
                {
                    return BadRequest($"The {dagId} DAG takes {what}, not a {read.Manifests[0].Kind}; trigger the {(dagId == Deployer ? Controller : Deployer)} DAG with it.");
                }
            }

            var result = await _applier.ApplyAsync([new ManifestFile(path, text)], dryRun: false, cancellationToken);
            if (!result.IsValid)
            {
                var problems = result.Problems.Select(p => p.ToString()).ToArray();
                return Problem(
                    StatusCodes.Status400BadRequest,
                    "Bad Request",
                    problems.Length == 1 ? $"The manifest in conf is not valid: {problems[0]}" : $"The manifest in conf is not valid: {string.Join(" | ", problems)}",
                    new JsonObject { ["problems"] = new JsonArray(result.Problems.Select(p => (JsonNode)JsonSerializer.SerializeToNode(p.ToResource(), Api.SluiceJson.Options)!).ToArray()) });
            }

            var applied = result.Manifests[0];
            target = new BucketObject(applied.Bucket, applied.ObjectName, applied.Generation ?? 0, 0, _time.GetUtcNow());
        }

        var record = new DagRunRecord(dagId, dagRunId, logicalDate, conf.ToJsonString(), null, target.Bucket, target.Name, target.Generation, _time.GetUtcNow());
        if (!await _ledger.TryInsertDagRunAsync(record, cancellationToken))
        {
            return AlreadyExists($"DAGRun with DAG ID: '{dagId}' and DAGRun ID: '{dagRunId}' already exists");
        }

        return Json(await IntakeRunAsync(record, cancellationToken));
    }

    private async Task<(IntakeChannel? Channel, BucketObject? Object, IResult? Error)> LocateObjectAsync(JsonObject storageEvent, CancellationToken cancellationToken)
    {
        var bucket = storageEvent["bucket"]!.ToString();
        var name = storageEvent["name"]!.ToString();
        if (_buckets.FindChannel(bucket, name) is not { } channel)
        {
            var watched = string.Join(", ", _buckets.Channels.Select(c => c.Uri.ToString()));
            return (null, null, BadRequest($"gs://{bucket}/{name} is not in a watched bucket ({watched}); upload the manifest there, or send the manifest itself as conf."));
        }

        long? generation = null;
        if (storageEvent["generation"] is JsonValue generationValue)
        {
            var text = generationValue.ToString();
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return (null, null, BadRequest($"The generation '{text}' in conf is not a number; send the generation of the object's event, or leave it out."));
            }

            generation = parsed;
        }

        BucketObject? current;
        try
        {
            current = await _buckets.Get(channel.Name).StatAsync(name, cancellationToken);
        }
        catch (BucketException e)
        {
            return (null, null, Problem(StatusCodes.Status503ServiceUnavailable, "Service Unavailable", $"gs://{bucket}/{name} could not be looked up: {e.Message}"));
        }

        if (current is null && generation is null)
        {
            return (null, null, BadRequest($"gs://{bucket}/{name} does not exist; upload the manifest first."));
        }

        // An older generation than the current one is taken in as it is: the ledger then ignores it as replaced.
        var item = current is not null && (generation is null || generation == current.Generation)
            ? current
            : new BucketObject(bucket, name, generation!.Value, 0, _time.GetUtcNow());
        return (channel, item, null);
    }

    private async Task<IResult> ListDagRunsAsync(HttpContext context, string dagId, CancellationToken cancellationToken)
    {
        var query = context.Request.Query;
        if (!TryPage(query, out var limit, out var offset, out var pageError))
        {
            return pageError;
        }

        var orderBy = query["order_by"].ToString() is { Length: > 0 } o ? o : "id";
        if (!DagRunOrderFields.Contains(orderBy.TrimStart('-'), StringComparer.Ordinal))
        {
            return BadRequest($"Ordering with '{orderBy}' is disallowed or the attribute does not exist on the model");
        }

        List<(AirflowDagRun Run, DateTimeOffset CreatedAt)> runs = [];
        if (dagId == "~")
        {
            foreach (var dag in await AllDagsAsync(cancellationToken))
            {
                runs.AddRange(await DagRunsAsync(dag.DagId, cancellationToken) ?? []);
            }
        }
        else if (await DagRunsAsync(dagId, cancellationToken) is { } found)
        {
            runs = found;
        }
        else
        {
            return NotFound("DAG not found", $"DAG with dag_id: '{dagId}' not found");
        }

        IEnumerable<(AirflowDagRun Run, DateTimeOffset CreatedAt)> selected = runs;
        var states = query["state"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        if (states.Length > 0)
        {
            selected = selected.Where(r => states.Contains(r.Run.State, StringComparer.Ordinal));
        }

        foreach (var (parameter, field) in new[] { ("execution_date", "logical"), ("start_date", "start"), ("end_date", "end") })
        {
            foreach (var (suffix, after) in new[] { ("_gte", true), ("_lte", false) })
            {
                if (query[parameter + suffix].ToString() is not { Length: > 0 } text)
                {
                    continue;
                }

                if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var bound))
                {
                    return BadRequest($"{parameter + suffix} '{text}' is not a date-time; use ISO 8601 such as 2026-01-01T00:00:00Z.");
                }

                selected = selected.Where(r => Field(r.Run, field) is { } value && (after ? value >= bound : value <= bound));
            }
        }

        var descending = orderBy.StartsWith('-');
        Func<(AirflowDagRun Run, DateTimeOffset CreatedAt), IComparable?> key = orderBy.TrimStart('-') switch
        {
            "dag_run_id" => r => r.Run.DagRunId,
            "execution_date" or "logical_date" => r => Field(r.Run, "logical"),
            "start_date" => r => Field(r.Run, "start"),
            "end_date" => r => Field(r.Run, "end"),
            "state" => r => r.Run.State,
            _ => r => r.CreatedAt,
        };
        selected = descending ? selected.OrderByDescending(key) : selected.OrderBy(key);
        var all = selected.Select(r => r.Run).ToArray();
        return Json(new AirflowDagRunCollection(all.Skip(offset).Take(limit).ToArray(), all.Length));
    }

    /// <summary>The runs of one DAG with their creation times; null when there is no such DAG.</summary>
    private async Task<List<(AirflowDagRun Run, DateTimeOffset CreatedAt)>?> DagRunsAsync(string dagId, CancellationToken cancellationToken)
    {
        var records = await _ledger.ListDagRunsAsync(dagId, cancellationToken);
        if (dagId is Deployer or Controller)
        {
            var runs = new List<(AirflowDagRun, DateTimeOffset)>();
            foreach (var record in records)
            {
                runs.Add((await IntakeRunAsync(record, cancellationToken), record.CreatedAt));
            }

            return runs;
        }

        if (Schedules is not { } schedules || await schedules.GetAsync(dagId, cancellationToken) is null)
        {
            return null;
        }

        var byDate = records.ToDictionary(r => r.LogicalDate);
        var slots = await schedules.ListSlotsAsync(dagId, 1000, null, cancellationToken);
        return slots
            .Where(s => s.State != SlotState.Pending || s.RunId is not null)
            .Select(s => (SlotRun(s, byDate.GetValueOrDefault(s.LogicalDate)), s.StartedAt ?? s.DueAt))
            .ToList();
    }

    private async Task<IResult> GetDagRunAsync(string dagId, string dagRunId, CancellationToken cancellationToken)
    {
        var found = await FindDagRunAsync(dagId, dagRunId, cancellationToken);
        return found.Run is { } run ? Json(run) : DagRunNotFound(dagId, dagRunId);
    }

    private async Task<(AirflowDagRun? Run, long? RunId)> FindDagRunAsync(string dagId, string dagRunId, CancellationToken cancellationToken)
    {
        var record = await _ledger.GetDagRunAsync(dagId, dagRunId, cancellationToken);
        if (dagId is Deployer or Controller)
        {
            if (record is null)
            {
                return (null, null);
            }

            var (intakeEvent, run) = await ResolveAsync(record, cancellationToken);
            return (IntakeRun(record, intakeEvent, run), run?.Run.Id);
        }

        if (Schedules is not { } schedules)
        {
            return (null, null);
        }

        DateTimeOffset? logicalDate = record?.LogicalDate;
        if (logicalDate is null)
        {
            var separator = dagRunId.IndexOf("__", StringComparison.Ordinal);
            if (separator > 0 && DateTimeOffset.TryParse(dagRunId[(separator + 2)..], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                logicalDate = parsed;
            }
        }

        if (logicalDate is null || await schedules.GetSlotAsync(dagId, logicalDate.Value, cancellationToken) is not { } slot)
        {
            return (null, null);
        }

        var found = SlotRun(slot, record);
        return found.DagRunId == dagRunId ? (found, slot.RunId) : (null, null);
    }

    private async Task<IResult> ListTaskInstancesAsync(string dagId, string dagRunId, CancellationToken cancellationToken)
    {
        var (run, runId) = await FindDagRunAsync(dagId, dagRunId, cancellationToken);
        if (run is null)
        {
            return DagRunNotFound(dagId, dagRunId);
        }

        var detail = runId is { } id ? await Engine.GetRunAsync(id, cancellationToken) : null;
        var instances = (detail?.Steps ?? []).Select(step => new AirflowTaskInstance
        {
            TaskId = step.Name,
            TaskDisplayName = step.Name,
            DagId = dagId,
            DagRunId = dagRunId,
            ExecutionDate = run.LogicalDate,
            StartDate = AirflowJson.Format(step.StartedAt),
            EndDate = AirflowJson.Format(step.FinishedAt),
            Duration = step.StartedAt is { } started && step.FinishedAt is { } finished ? (finished - started).TotalSeconds : null,
            State = TaskState(step.Status, detail!.Run.Status),
            TryNumber = Math.Max(1, step.Attempt),
            MaxTries = Math.Max(0, step.Retry.MaxAttempts - 1),
            Operator = step.Kind,
            Note = step.Reason,
        }).ToArray();
        return Json(new AirflowTaskInstanceCollection(instances, instances.Length));
    }

    /// <summary>The event a deployer/controller run's object became, and the engine run it started (if any).</summary>
    private async Task<(IntakeEvent? Event, RunDetail? Run)> ResolveAsync(DagRunRecord record, CancellationToken cancellationToken)
    {
        if (record.Bucket is null || record.ObjectName is null || record.Generation is null)
        {
            return (null, null);
        }

        var events = await _ledger.ListAsync(
            new IntakeEventQuery { Bucket = record.Bucket, ObjectName = record.ObjectName, Generation = record.Generation, Limit = 5 },
            cancellationToken);
        var intakeEvent = events.Events.FirstOrDefault(e => e.Change == ObjectChange.Finalized);
        var runId = intakeEvent?.Dispatches.FirstOrDefault(d => d.RunId is not null)?.RunId ?? record.RunId;
        var run = runId is { } id ? await Engine.GetRunAsync(id, cancellationToken) : null;
        return (intakeEvent, run);
    }

    private async Task<AirflowDagRun> IntakeRunAsync(DagRunRecord record, CancellationToken cancellationToken)
    {
        var (intakeEvent, run) = await ResolveAsync(record, cancellationToken);
        return IntakeRun(record, intakeEvent, run);
    }

    private static AirflowDagRun IntakeRun(DagRunRecord record, IntakeEvent? intakeEvent, RunDetail? run)
    {
        var location = $"{record.Bucket}/{record.ObjectName}#{record.Generation}";
        var (state, note, start, end) = (intakeEvent?.State, run?.Run) switch
        {
            (null or IntakeEventState.Received, _) => ("queued", $"Waiting for Sluice to take {location} in.", (DateTimeOffset?)null, (DateTimeOffset?)null),
            (IntakeEventState.Rejected, _) => ("failed", intakeEvent!.Reason, intakeEvent.ReceivedAt, intakeEvent.FinishedAt),
            (IntakeEventState.Ignored, _) => ("success", intakeEvent!.Reason, intakeEvent.ReceivedAt, intakeEvent.FinishedAt),
            (_, { } summary) => (DagRunState(summary.Status), summary.Reason, summary.StartedAt ?? intakeEvent!.ReceivedAt, summary.FinishedAt),
            _ => ("success", null, intakeEvent!.ReceivedAt, intakeEvent.FinishedAt),
        };
        return new AirflowDagRun
        {
            DagRunId = record.DagRunId,
            DagId = record.DagId,
            LogicalDate = AirflowJson.Format(record.LogicalDate),
            ExecutionDate = AirflowJson.Format(record.LogicalDate),
            StartDate = AirflowJson.Format(start),
            EndDate = AirflowJson.Format(end),
            DataIntervalStart = AirflowJson.Format(record.LogicalDate),
            DataIntervalEnd = AirflowJson.Format(record.LogicalDate),
            RunType = "manual",
            State = state,
            ExternalTrigger = true,
            Conf = ParseConf(record.ConfJson),
            Note = note,
        };
    }

    private static AirflowDagRun SlotRun(SlotRunInfo slot, DagRunRecord? record)
    {
        var runType = slot.Trigger switch
        {
            SlotTrigger.Manual => "manual",
            SlotTrigger.Backfill => "backfill",
            _ => "scheduled",
        };
        return new AirflowDagRun
        {
            DagRunId = record?.DagRunId ?? $"{runType}__{AirflowJson.Format(slot.LogicalDate)}",
            DagId = slot.DagId,
            LogicalDate = AirflowJson.Format(slot.LogicalDate),
            ExecutionDate = AirflowJson.Format(slot.LogicalDate),
            StartDate = AirflowJson.Format(slot.StartedAt),
            EndDate = AirflowJson.Format(slot.FinishedAt),
            DataIntervalStart = AirflowJson.Format(slot.DataIntervalStart),
            DataIntervalEnd = AirflowJson.Format(slot.DataIntervalEnd),
            RunType = runType,
            State = slot.State switch
            {
                SlotState.Pending or SlotState.Queued => "queued",
                SlotState.Running => "running",
                SlotState.Succeeded => "success",
                _ => "failed",
            },
            ExternalTrigger = slot.Trigger == SlotTrigger.Manual,
            Conf = ParseConf(record?.ConfJson) ?? new JsonObject(),
            Note = slot.Reason,
        };
    }

    private static string DagRunState(RunStatus status) => status switch
    {
        RunStatus.Queued => "queued",
        RunStatus.Running => "running",
        RunStatus.Succeeded => "success",
        _ => "failed",
    };

    /// <summary>Engine step states as Airflow task states; a step cancelled because an earlier one failed is upstream_failed.</summary>
    private static string? TaskState(StepStatus status, RunStatus run) => status switch
    {
        StepStatus.Pending => "scheduled",
        StepStatus.Running => "running",
        StepStatus.Waiting => "up_for_reschedule",
        StepStatus.Succeeded => "success",
        StepStatus.Failed => "failed",
        StepStatus.Skipped => "skipped",
        StepStatus.Cancelled => run == RunStatus.Failed ? "upstream_failed" : "failed",
        _ => null,
    };

    private static JsonNode? ParseConf(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return JsonValue.Create(json);
        }
    }

    private static DateTimeOffset? Field(AirflowDagRun run, string field)
    {
        var text = field switch
        {
            "logical" => run.LogicalDate,
            "start" => run.StartDate,
            _ => run.EndDate,
        };
        return text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) ? value : null;
    }

    // ---- requests and errors ----

    private static async Task<(JsonObject? Value, IResult? Error)> ReadObjectAsync(HttpContext context, CancellationToken cancellationToken)
    {
        try
        {
            var node = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: cancellationToken);
            return node is JsonObject value
                ? (value, null)
                : (null, BadRequest("The request body must be a JSON object."));
        }
        catch (JsonException e)
        {
            return (null, BadRequest($"The request body is not valid JSON: {e.Message}"));
        }
    }

    private static bool TryDate(JsonObject request, string field, out DateTimeOffset? value, out IResult? error)
    {
        value = null;
        error = null;
        if (request[field] is null)
        {
            return true;
        }

        if (request[field] is JsonValue text && text.TryGetValue<string>(out var s)
            && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            value = parsed;
            return true;
        }

        error = BadRequest($"{{'{field}': ['Not a valid datetime.']}} — use ISO 8601 such as 2026-01-01T00:00:00+00:00.");
        return false;
    }

    private static bool TryPage(IQueryCollection query, out int limit, out int offset, out IResult error)
    {
        limit = 100;
        offset = 0;
        error = Results.Empty;
        if (query["limit"].ToString() is { Length: > 0 } limitText
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1))
        {
            error = BadRequest($"limit must be a positive number (got '{limitText}').");
            return false;
        }

        if (query["offset"].ToString() is { Length: > 0 } offsetText
            && !int.TryParse(offsetText, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
        {
            error = BadRequest($"offset must be a number of 0 or more (got '{offsetText}').");
            return false;
        }

        return true;
    }

    private static DateTimeOffset TruncateToMicroseconds(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % 10), TimeSpan.Zero);

    private static string FormatSpaced(DateTimeOffset time) => AirflowJson.Format(time)!.Replace('T', ' ');

    private static IResult Json(object value) => Results.Json(value, AirflowJson.Options);

    private static IResult DagRunNotFound(string dagId, string dagRunId) =>
        NotFound("DAGRun not found", $"DAGRun with DAG ID: '{dagId}' and DagRun ID: '{dagRunId}' not found");

    private static IResult NotFound(string title, string detail) => Problem(StatusCodes.Status404NotFound, title, detail);

    private static IResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, "Bad Request", detail);

    private static IResult AlreadyExists(string detail) => Problem(StatusCodes.Status409Conflict, "Conflict", detail);

    /// <summary>Airflow's error document (RFC 7807): detail, status, title, type.</summary>
    private static IResult Problem(int status, string title, string detail, JsonObject? extensions = null)
    {
        var type = status switch
        {
            StatusCodes.Status400BadRequest => "BadRequest",
            StatusCodes.Status404NotFound => "NotFound",
            StatusCodes.Status409Conflict => "AlreadyExists",
            StatusCodes.Status401Unauthorized => "Unauthenticated",
            StatusCodes.Status403Forbidden => "PermissionDenied",
            _ => "Unknown",
        };
        var body = new JsonObject
        {
            ["detail"] = detail,
            ["status"] = status,
            ["title"] = title,
            ["type"] = ErrorsLink + type,
        };
        foreach (var (key, value) in extensions ?? [])
        {
            body[key] = value?.DeepClone();
        }

        return Results.Content(body.ToJsonString(), "application/problem+json", System.Text.Encoding.UTF8, status);
    }
}
