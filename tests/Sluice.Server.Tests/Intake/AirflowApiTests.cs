using System.Text.Json;

namespace Sluice.Server.Tests.Intake;

/// <summary>The Airflow-compatible API over real HTTP, the way a Composer-calling Cloud Function uses it.</summary>
public sealed class AirflowApiTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await IntakeTestServer.StartAsync(withSchedules: true);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Triggering_the_deployer_with_a_manifest_runs_a_rollout_that_the_dag_run_follows()
    {
        using var client = _server.AdminClient();
        var (status, run, contentType) = await client.SendJsonAsync(HttpMethod.Post, "/api/v1/dags/deployer/dagRuns", new
        {
            dag_run_id = "deploy-v1",
            conf = IntakeTestServer.Rollout("clickstream-v1"),
        });

        Assert.Equal(200, status);
        Assert.Equal("application/json", contentType);
        Assert.Equal("deploy-v1", run.GetProperty("dag_run_id").GetString());
        Assert.Equal("deployer", run.GetProperty("dag_id").GetString());
        Assert.Equal("manual", run.GetProperty("run_type").GetString());
        Assert.True(run.GetProperty("external_trigger").GetBoolean());
        Assert.Equal(run.GetProperty("logical_date").GetString(), run.GetProperty("execution_date").GetString());
        Assert.EndsWith("+00:00", run.GetProperty("logical_date").GetString(), StringComparison.Ordinal);
        Assert.Contains(run.GetProperty("state").GetString(), new[] { "queued", "running" });
        Assert.Equal(JsonValueKind.Null, run.GetProperty("end_date").ValueKind);
        Assert.True(File.Exists(Path.Combine(_server.RolloutsDirectory(), "clickstream-v1.yaml")), "the manifest went into the watched bucket");

        // The rollout's run waits at its gate: the DAG run is running, its task instance too.
        var running = await IntakeTestServer.EventuallyAsync(
            () => client.GetJsonAsync("/api/v1/dags/deployer/dagRuns/deploy-v1"),
            r => r.GetProperty("state").GetString() == "running",
            "the DAG run is running");
        var tasks = await IntakeTestServer.EventuallyAsync(
            () => client.GetJsonAsync("/api/v1/dags/deployer/dagRuns/deploy-v1/taskInstances"),
            t => t.GetProperty("total_entries").GetInt32() == 1 && t.GetProperty("task_instances")[0].GetProperty("state").GetString() == "up_for_reschedule",
            "the task instance waits like a rescheduled sensor");
        var task = tasks.GetProperty("task_instances")[0];
        Assert.Equal("deploy", task.GetProperty("task_id").GetString());
        Assert.Equal("deploy-v1", task.GetProperty("dag_run_id").GetString());
        Assert.Equal(1, task.GetProperty("try_number").GetInt32());
        Assert.Equal(-1, task.GetProperty("map_index").GetInt32());
        Assert.NotEqual(JsonValueKind.Null, running.GetProperty("start_date").ValueKind);

        await File.WriteAllTextAsync(_server.Gate("clickstream-v1"), "go");
        var done = await IntakeTestServer.EventuallyAsync(
            () => client.GetJsonAsync("/api/v1/dags/deployer/dagRuns/deploy-v1"),
            r => r.GetProperty("state").GetString() == "success",
            "the DAG run succeeds");
        Assert.NotEqual(JsonValueKind.Null, done.GetProperty("end_date").ValueKind);
        Assert.Equal("success", (await client.GetJsonAsync("/api/v1/dags/deployer/dagRuns/deploy-v1/taskInstances"))
            .GetProperty("task_instances")[0].GetProperty("state").GetString());

        var list = await client.GetJsonAsync("/api/v1/dags/deployer/dagRuns");
        Assert.Equal(1, list.GetProperty("total_entries").GetInt32());
        Assert.Equal("deploy-v1", list.GetProperty("dag_runs")[0].GetProperty("dag_run_id").GetString());
    }

    [Fact]
    public async Task The_same_dag_run_id_twice_is_a_conflict_in_airflow_s_error_shape()
    {
        using var client = _server.AdminClient();
        var conf = JsonDocument.Parse(JsonSerializer.Serialize(new
        {
            apiVersion = "sluice/v1",
            kind = "Rollout",
            metadata = new { name = "json-v1" },
            spec = new { pipeline = "p", to = new { version = "v1", template = new { kind = "classic", gcsPath = "gs://sluice-templates/templates/counter.json" } } },
        })).RootElement;
        var first = await client.SendJsonAsync(HttpMethod.Post, "/api/v1/dags/deployer/dagRuns", new { dag_run_id = "once", conf });
        var second = await client.SendJsonAsync(HttpMethod.Post, "/api/v1/dags/deployer/dagRuns", new { dag_run_id = "once", conf });

        Assert.Equal(200, first.Status);
        Assert.True(File.Exists(Path.Combine(_server.RolloutsDirectory(), "json-v1.json")), "a JSON conf is written as a .json object");
        Assert.Equal(409, second.Status);
        Assert.Equal("application/problem+json", second.ContentType);
        Assert.Equal("Conflict", second.Body.GetProperty("title").GetString());
        Assert.Equal(409, second.Body.GetProperty("status").GetInt32());
        Assert.Equal("DAGRun with DAG ID: 'deployer' and DAGRun ID: 'once' already exists", second.Body.GetProperty("detail").GetString());
        Assert.EndsWith("#section/Errors/AlreadyExists", second.Body.GetProperty("type").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_triggers_answer_400_or_404_with_a_reason()
    {
        using var client = _server.AdminClient();

        var invalid = await client.SendJsonAsync(HttpMethod.Post, "/api/v1/dags/deployer/dagRuns",
            new { conf = IntakeTestServer.Rollout("bad").Replace("version: v1", "version: \"\"") });
        Assert.Equal(400, invalid.Status);
        Assert.StartsWith("The manifest in conf is not valid", invalid.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("#section/Errors/BadRequest", invalid.Body.GetProperty("type").GetString(), StringComparison.Ordinal);

        var wrongDag = await client.SendJsonAsync(HttpMethod.Post, "/api/v1/dags/deployer/dagRuns", new { conf = IntakeTestServer.Schedule("s", "daily_x") });
        Assert.Equal(400, wrongDag.Status);
        Assert.Contains("controller DAG", wrongDag.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var noConf = await client.SendJsonAsync(HttpMethod.Post, "/api/v1/dags/deployer/dagRuns", new { dag_run_id = "x" });
        Assert.Equal(400, noConf.Status);

        var badDate = await client.SendJsonAsync(HttpMethod.Post, "/api/v1/dags/deployer/dagRuns", new { logical_date = "yesterday", conf = "x" });
        Assert.Equal(400, badDate.Status);
        Assert.Contains("logical_date", badDate.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var unknown = await client.SendJsonAsync(HttpMethod.Post, "/api/v1/dags/nope/dagRuns", new { conf = new { } });
        Assert.Equal(404, unknown.Status);
        Assert.Equal("DAG not found", unknown.Body.GetProperty("title").GetString());
        Assert.Equal("DAG with dag_id: 'nope' not found", unknown.Body.GetProperty("detail").GetString());

        var noRun = await client.SendJsonAsync(HttpMethod.Get, "/api/v1/dags/deployer/dagRuns/missing", null);
        Assert.Equal(404, noRun.Status);
        Assert.Equal("DAGRun not found", noRun.Body.GetProperty("title").GetString());

        Assert.Empty(Directory.EnumerateFiles(_server.RolloutsDirectory()));
    }

    [Fact]
    public async Task A_storage_event_as_conf_takes_the_uploaded_object_in_once()
    {
        // What the reference Cloud Function sends: the Cloud Storage event of the upload as conf.
        await File.WriteAllTextAsync(Path.Combine(_server.RolloutsDirectory(), "uploaded.yaml"), IntakeTestServer.Rollout("uploaded"));
        using var client = _server.AdminClient();
        var watched = await IntakeTestServer.EventuallyAsync(
            () => client.GetJsonAsync("/v1/events?object=uploaded.yaml"),
            e => e.GetProperty("items").GetArrayLength() == 1,
            "the watcher takes the upload in");
        var generation = watched.GetProperty("items")[0].GetProperty("generation").GetInt64();

        var (status, run, _) = await client.SendJsonAsync(HttpMethod.Post, "/api/v1/dags/deployer/dagRuns", new
        {
            conf = new { bucket = "manifests", name = "uploaded.yaml", generation = generation.ToString(System.Globalization.CultureInfo.InvariantCulture), contentType = "application/x-yaml" },
        });

        Assert.Equal(200, status);
        Assert.StartsWith("manual__", run.GetProperty("dag_run_id").GetString(), StringComparison.Ordinal);
        Assert.Equal("manifests", run.GetProperty("conf").GetProperty("bucket").GetString());
        Assert.Equal(1, (await client.GetJsonAsync("/v1/events?object=uploaded.yaml")).GetProperty("items").GetArrayLength());
        await IntakeTestServer.EventuallyAsync(
            () => client.GetJsonAsync($"/api/v1/dags/deployer/dagRuns/{Uri.EscapeDataString(run.GetProperty("dag_run_id").GetString()!)}"),
            r => r.GetProperty("state").GetString() == "running",
            "the DAG run follows the upload's rollout");

        var outside = await client.SendJsonAsync(HttpMethod.Post, "/api/v1/dags/deployer/dagRuns", new { conf = new { bucket = "elsewhere", name = "x.yaml" } });
        Assert.Equal(400, outside.Status);
        Assert.Contains("not in a watched bucket", outside.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_controller_registers_a_schedule_that_becomes_a_dag_which_can_be_paused_and_triggered()
    {
        using var client = _server.AdminClient();
        var (status, run, _) = await client.SendJsonAsync(HttpMethod.Post, "/api/v1/dags/controller/dagRuns", new { conf = IntakeTestServer.Schedule("daily", "daily_sales") });
        Assert.Equal(200, status);
        var runId = Uri.EscapeDataString(run.GetProperty("dag_run_id").GetString()!);
        await IntakeTestServer.EventuallyAsync(
            () => client.GetJsonAsync($"/api/v1/dags/controller/dagRuns/{runId}"),
            r => r.GetProperty("state").GetString() == "success",
            "the registration succeeds");

        var dags = await client.GetJsonAsync("/api/v1/dags");
        Assert.Equal(3, dags.GetProperty("total_entries").GetInt32());
        Assert.Equal(["controller", "daily_sales", "deployer"], dags.GetProperty("dags").EnumerateArray().Select(d => d.GetProperty("dag_id").GetString()));
        var dag = await client.GetJsonAsync("/api/v1/dags/daily_sales");
        Assert.True(dag.GetProperty("is_paused").GetBoolean());
        Assert.Equal("CronExpression", dag.GetProperty("schedule_interval").GetProperty("__type").GetString());
        Assert.Equal("@daily", dag.GetProperty("schedule_interval").GetProperty("value").GetString());
        Assert.Equal(1, (await client.GetJsonAsync("/api/v1/dags?paused=true")).GetProperty("total_entries").GetInt32());
        Assert.Equal(1, (await client.GetJsonAsync("/api/v1/dags?dag_id_pattern=SALES")).GetProperty("total_entries").GetInt32());

        var (patchStatus, patched, _) = await client.SendJsonAsync(HttpMethod.Patch, "/api/v1/dags/daily_sales?update_mask=is_paused", new { is_paused = false });
        Assert.Equal(200, patchStatus);
        Assert.False(patched.GetProperty("is_paused").GetBoolean());
        var badMask = await client.SendJsonAsync(HttpMethod.Patch, "/api/v1/dags/daily_sales?update_mask=description", new { is_paused = true });
        Assert.Equal(400, badMask.Status);
        Assert.Equal("Only `is_paused` field can be updated through the REST API", badMask.Body.GetProperty("detail").GetString());
        var deployerPause = await client.SendJsonAsync(HttpMethod.Patch, "/api/v1/dags/deployer", new { is_paused = true });
        Assert.Equal(400, deployerPause.Status);

        var (triggerStatus, triggered, _) = await client.SendJsonAsync(HttpMethod.Post, "/api/v1/dags/daily_sales/dagRuns", new
        {
            dag_run_id = "rerun-jan-2",
            logical_date = "2026-01-02T00:00:00+00:00",
            conf = new { reason = "reprocess" },
        });
        Assert.Equal(200, triggerStatus);
        Assert.Equal("rerun-jan-2", triggered.GetProperty("dag_run_id").GetString());
        Assert.Equal("2026-01-02T00:00:00.000000+00:00", triggered.GetProperty("logical_date").GetString());
        Assert.Equal("2026-01-03T00:00:00.000000+00:00", triggered.GetProperty("data_interval_end").GetString());
        Assert.Equal("manual", triggered.GetProperty("run_type").GetString());
        Assert.Equal("reprocess", triggered.GetProperty("conf").GetProperty("reason").GetString());

        var again = await client.SendJsonAsync(HttpMethod.Post, "/api/v1/dags/daily_sales/dagRuns", new { logical_date = "2026-01-02T00:00:00Z" });
        Assert.Equal(409, again.Status);
        Assert.Contains("logical date", again.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Unpaused without catch-up, the schedule may also have started its latest slot (2026-01-03) by now.
        var runs = (await client.GetJsonAsync("/api/v1/dags/daily_sales/dagRuns")).GetProperty("dag_runs").EnumerateArray().ToArray();
        Assert.Contains(runs, r => r.GetProperty("dag_run_id").GetString() == "rerun-jan-2");
        Assert.All(runs.Where(r => r.GetProperty("dag_run_id").GetString() != "rerun-jan-2"),
            r => Assert.Equal("scheduled__" + r.GetProperty("logical_date").GetString(), r.GetProperty("dag_run_id").GetString()));
        var one = await client.GetJsonAsync("/api/v1/dags/daily_sales/dagRuns/rerun-jan-2");
        Assert.Equal("manual", one.GetProperty("run_type").GetString());
        var all = await client.GetJsonAsync("/api/v1/dags/~/dagRuns");
        Assert.True(all.GetProperty("total_entries").GetInt32() >= runs.Length + 1);
    }

    [Fact]
    public async Task Reading_needs_a_token_and_triggering_an_operator()
    {
        using var anonymous = _server.Client();
        Assert.Equal(401, (await anonymous.SendJsonAsync(HttpMethod.Get, "/api/v1/dags", null)).Status);

        using var admin = _server.AdminClient();
        var (_, created, _) = await admin.SendJsonAsync(HttpMethod.Post, "/v1/tokens", new { name = "reader", role = "viewer" });
        using var viewer = _server.Client(created.GetProperty("token").GetString());
        Assert.Equal(2, (await viewer.GetJsonAsync("/api/v1/dags")).GetProperty("total_entries").GetInt32());
        Assert.Equal(403, (await viewer.SendJsonAsync(HttpMethod.Post, "/api/v1/dags/deployer/dagRuns", new { conf = "x" })).Status);
    }
}
