namespace Sluice.Manifests.Tests;

/// <summary>
/// The invalid corpus: each case breaks one thing and must produce exactly one problem, at the marked position,
/// with the field path and a message (and hint) that says how to fix it. Cases marked for the schema must also be
/// rejected by schemas/sluice-v1.schema.json (see <see cref="SchemaTests"/>).
/// </summary>
public class InvalidManifestCorpusTests
{
    public sealed record Case(string Name, string Marked, string Field, string Message, string? Hint = null, bool Schema = true, string Path = "bad.yaml")
    {
        public override string ToString() => Name;
    }

    private static string Rollout(string spec = "", string to = "", string env = "", string name = "r1", string header = "") => $"""
        apiVersion: sluice/v1
        kind: Rollout
        {header}metadata:
          name: {name}
        spec:
          pipeline: clickstream
        {spec}  from:
            version: v1
            template: {"{"} kind: classic, gcsPath: gs://acme-templates/clickstream/v1 {"}"}
          to:
            version: v2
            template: {"{"} kind: classic, gcsPath: gs://acme-templates/clickstream/v2 {"}"}
        {to}    environment:
              maxWorkers: 10
        {env}
        """;

    private static string Schedule(string spec = "", string job = "", string schedule = "\"@daily\"", string zone = "Europe/Berlin", string start = "2026-11-01") => $"""
        apiVersion: sluice/v1
        kind: Schedule
        metadata:
          name: daily-sales
        spec:
          dagId: daily_sales
          schedule: {schedule}
          timeZone: {zone}
          startDate: {start}
        {spec}  job:
            template: {"{"} kind: classic, gcsPath: gs://acme-templates/sales/v7 {"}"}
            jobName: "daily-sales-{"{{"} ds_nodash {"}}"}"
        {job}    parameters:
              date: "{"{{"} ds {"}}"}"
        """;

    public static readonly IReadOnlyList<Case> Cases =
    [
        // document
        new("apiVersion unsupported", "apiVersion: ⟨sluice/v2\nkind: Unschedule\nmetadata: { name: u }\nspec: { dagId: d }\n", "apiVersion", "'sluice/v2' is not a supported apiVersion", "use apiVersion: sluice/v1"),
        new("kind misspelt", "apiVersion: sluice/v1\nkind: ⟨Unschedul\nmetadata: { name: u }\nspec: { dagId: d }\n", "kind", "'Unschedul' is not one of Rollout, Schedule, Unschedule", "did you mean 'Unschedule'?"),
        new("spec missing", "⟨apiVersion: sluice/v1\nkind: Unschedule\nmetadata: { name: u }\n", "spec", "is required but missing"),
        new("unknown top-level field", "apiVersion: sluice/v1\nkind: Unschedule\nmetadata: { name: u }\nspec: { dagId: d }\n⟨status: {}\n", "status", "unknown field 'status' in a manifest"),
        new("document is a list", "⟨- apiVersion: sluice/v1\n", "", "a manifest must be an object with apiVersion, kind, metadata and spec, not a list", Schema: true),
        new("metadata name invalid", Rollout(name: "⟨Click_Stream"), "metadata.name", "'Click_Stream' is not valid: names are 1 to 253 lowercase letters"),
        new("metadata name missing", "apiVersion: sluice/v1\nkind: Unschedule\n⟨metadata: { labels: { team: web } }\nspec: { dagId: d }\n", "metadata.name", "is required but missing"),
        new("metadata label key invalid", "apiVersion: sluice/v1\nkind: Unschedule\nmetadata:\n  name: u\n  labels: { ⟨Team: web }\nspec: { dagId: d }\n", "metadata.labels.Team", "the label key 'Team' is not valid"),

        // rollout spec
        new("pipeline invalid", Rollout().Replace("pipeline: clickstream", "pipeline: ⟨Click_Stream"), "spec.pipeline", "'Click_Stream' is not valid: pipeline names are 1 to 63 lowercase letters"),
        new("pipeline missing", Rollout().Replace("spec:\n  pipeline: clickstream\n", "⟨spec:\n"), "spec.pipeline", "is required but missing", "add it, e.g. pipeline: clickstream"),
        new("strategy misspelt", Rollout(spec: "  strategy: ⟨restrat\n"), "spec.strategy", "'restrat' is not one of restart, rolling, update", "did you mean 'restart'?"),
        new("version with a space", Rollout().Replace("version: v1", "version: ⟨\"v 1\""), "spec.from.version", "'v 1' is not valid: versions are 1 to 63 letters"),
        new("to missing", Rollout().Replace("  to:\n    version: v2\n    template: { kind: classic, gcsPath: gs://acme-templates/clickstream/v2 }\n    environment:\n      maxWorkers: 10\n", "").Replace("spec:\n", "⟨spec:\n"), "spec.to", "is required but missing"),
        new("template missing", Rollout().Replace("    template: { kind: classic, gcsPath: gs://acme-templates/clickstream/v2 }\n", "").Replace("  to:\n", "  ⟨to:\n"), "spec.to.template", "is required but missing"),
        new("template kind unknown", Rollout().Replace("{ kind: classic, gcsPath: gs://acme-templates/clickstream/v2 }", "{ kind: ⟨flexible, gcsPath: gs://acme-templates/clickstream/v2 }"), "spec.to.template.kind", "'flexible' is not one of classic, flex", "did you mean 'flex'?"),
        new("template path not gs", Rollout().Replace("gcsPath: gs://acme-templates/clickstream/v2", "gcsPath: ⟨s3://acme/v2"), "spec.to.template.gcsPath", "'s3://acme/v2' is not valid: a template path is gs://BUCKET/PATH"),
        new("template path is a folder", Rollout().Replace("gcsPath: gs://acme-templates/clickstream/v2", "gcsPath: ⟨gs://acme-templates/clickstream/"), "spec.to.template.gcsPath", "names a folder", "remove the trailing '/'"),
        new("template is a string", Rollout().Replace("template: { kind: classic, gcsPath: gs://acme-templates/clickstream/v2 }", "template: ⟨gs://acme-templates/clickstream/v2"), "spec.to.template", "must be a template reference (an object with fields), not a string"),
        new("job name invalid", Rollout(to: "    jobName: ⟨Clickstream_V2\n"), "spec.to.jobName", "'Clickstream_V2' is not valid: Dataflow job names are lowercase letters"),

        // environment
        new("environment field misspelt", Rollout(env: "      ⟨maxWorker: 5"), "spec.to.environment.maxWorker", "unknown field 'maxWorker' in a runtime environment", "did you mean 'maxWorkers'?"),
        new("numWorkers too large", Rollout(env: "      numWorkers: ⟨2000"), "spec.to.environment.numWorkers", "must be from 1 to 1000, got 2000"),
        new("maxWorkers zero", Rollout().Replace("maxWorkers: 10", "maxWorkers: ⟨0"), "spec.to.environment.maxWorkers", "must be from 1 to 1000, got 0"),
        new("maxWorkers quoted", Rollout().Replace("maxWorkers: 10", "maxWorkers: ⟨\"10\""), "spec.to.environment.maxWorkers", "must be a whole number from 1 to 1000, not a string", "remove the quotes: 10"),
        new("numWorkers above maxWorkers", Rollout(env: "      numWorkers: ⟨20"), "spec.to.environment.numWorkers", "is 20, more than maxWorkers (10)", Schema: false),
        new("workerRegion with workerZone", Rollout(env: "      workerRegion: us-central1\n      workerZone: ⟨us-central1-a"), "spec.to.environment.workerZone", "cannot be combined with workerRegion"),
        new("zone with workerZone", Rollout(env: "      zone: us-central1-b\n      workerZone: ⟨us-central1-a"), "spec.to.environment.workerZone", "cannot be combined with zone", "zone is the older name of workerZone; keep only workerZone"),
        new("ipConfiguration lowercase", Rollout(env: "      ipConfiguration: ⟨private"), "spec.to.environment.ipConfiguration", "'private' is not one of WORKER_IP_PUBLIC, WORKER_IP_PRIVATE", "did you mean 'WORKER_IP_PRIVATE'?"),
        new("streamingMode unknown", Rollout(env: "      streamingMode: ⟨EXACTLY_ONCE"), "spec.to.environment.streamingMode", "'EXACTLY_ONCE' is not one of STREAMING_MODE_EXACTLY_ONCE, STREAMING_MODE_AT_LEAST_ONCE", "did you mean 'STREAMING_MODE_EXACTLY_ONCE'?"),
        new("flex-only field on classic", Rollout(env: "      ⟨flexrsGoal: FLEXRS_COST_OPTIMIZED"), "spec.to.environment.flexrsGoal", "applies to flex templates only, and this version uses a classic template", "remove the field, or use template kind: flex"),
        new("classic-only field on flex", Rollout(env: "      ⟨bypassTempDirValidation: true").Replace("{ kind: classic, gcsPath: gs://acme-templates/clickstream/v2 }", "{ kind: flex, gcsPath: gs://acme-templates/clickstream/v2.json }"), "spec.to.environment.bypassTempDirValidation", "applies to classic templates only"),
        new("tempLocation not gs", Rollout(env: "      tempLocation: ⟨/tmp/dataflow"), "spec.to.environment.tempLocation", "'/tmp/dataflow' is not valid: a Cloud Storage path starts with gs://BUCKET/"),
        new("service account not an email", Rollout(env: "      serviceAccountEmail: ⟨runner"), "spec.to.environment.serviceAccountEmail", "'runner' is not valid: a service account is an email address"),
        new("machine type uppercase", Rollout(env: "      machineType: ⟨N2-standard-2"), "spec.to.environment.machineType", "is not valid: a Compute Engine machine type looks like n2-standard-2"),
        new("disk too small", Rollout(env: "      diskSizeGb: ⟨5"), "spec.to.environment.diskSizeGb", "must be from 10 to 65536, got 5"),
        new("label key uppercase", Rollout(env: "      additionalUserLabels:\n        ⟨Team: web"), "spec.to.environment.additionalUserLabels.Team", "the label key 'Team' is not valid"),
        new("label value with space", Rollout(env: "      additionalUserLabels:\n        team: ⟨web analytics"), "spec.to.environment.additionalUserLabels.team", "the label value 'web analytics' is not valid"),
        new("label key reserved", Rollout(env: "      additionalUserLabels:\n        ⟨sluice-run: \"7\""), "spec.to.environment.additionalUserLabels.sluice-run", "the label key 'sluice-run' is reserved"),
        new("experiments not a list", Rollout(env: "      additionalExperiments: ⟨enable_prime"), "spec.to.environment.additionalExperiments", "must be a list of strings, not a string"),
        new("pipeline option without value", Rollout(env: "      additionalPipelineOptions:\n        - ⟨numberOfWorkerHarnessThreads"), "spec.to.environment.additionalPipelineOptions[0]", "is not valid: a pipeline option is written NAME=VALUE"),
        new("subnetwork malformed", Rollout(env: "      subnetwork: ⟨default"), "spec.to.environment.subnetwork", "'default' is not valid: a subnetwork is regions/REGION/subnetworks/NAME"),
        new("kms key malformed", Rollout(env: "      kmsKeyName: ⟨my-key"), "spec.to.environment.kmsKeyName", "is not valid: a Cloud KMS key is projects/P/locations/L/keyRings/R/cryptoKeys/K"),
        new("boolean written yes", Rollout(env: "      enableStreamingEngine: ⟨yes"), "spec.to.environment.enableStreamingEngine", "must be true or false, not a string", "write true or false without quotes"),
        new("at-least-once without streaming engine", Rollout(env: "      enableStreamingEngine: false\n      streamingMode: ⟨STREAMING_MODE_AT_LEAST_ONCE"), "spec.to.environment.streamingMode", "at-least-once mode runs on Streaming Engine", Schema: false),
        new("worker region malformed", Rollout(env: "      workerRegion: ⟨us_central1"), "spec.to.environment.workerRegion", "'us_central1' is not valid: a Compute Engine region looks like us-central1"),

        // parameters and the rest of the rollout
        new("macro in rollout parameter", Rollout(to: "    parameters:\n      date: ⟨\"{{ ds }}\"\n"), "spec.to.parameters.date", "slot macros such as {{ ds }} exist only in Schedule jobs"),
        new("parameter value is a list", Rollout(to: "    parameters:\n      inputs: ⟨[a, b]\n"), "spec.to.parameters.inputs", "must be a text, number or boolean, not a list"),
        new("parameter name invalid", Rollout(to: "    parameters:\n      ⟨1input: x\n"), "spec.to.parameters.1input", "the parameter name '1input' is not valid"),
        new("transform mapping without update", Rollout(to: "    ⟨transformNameMapping: { A: B }\n"), "spec.to.transformNameMapping", "applies only to strategy update", "remove it, or set strategy: update", Schema: false),
        new("stop mode unknown", Rollout(spec: "  stop: { mode: ⟨kill }\n"), "spec.stop.mode", "'kill' is not one of drain, cancel"),
        new("stop timeout without unit", Rollout(spec: "  stop: { timeout: ⟨15 }\n"), "spec.stop.timeout", "'15' has no unit", "write 15s, 15m or 15h"),
        new("stop timeout in words", Rollout(spec: "  stop: { timeout: ⟨15 minutes }\n"), "spec.stop.timeout", "'15 minutes' is not a duration such as 90s, 15m, 1h30m, 2d or PT15M"),
        new("checks not a list", Rollout(spec: "  validation:\n    checks: ⟨{ state: RUNNING }\n"), "spec.validation.checks", "must be a list of checks, not an object"),
        new("check misspelt", Rollout(spec: "  validation:\n    checks:\n      - ⟨stat: RUNNING\n"), "spec.validation.checks[0].stat", "unknown field 'stat' in a validation check", "did you mean 'state'?"),
        new("two checks in one item", Rollout(spec: "  validation:\n    checks:\n      - ⟨state: RUNNING\n        metric: { name: ElementCount, min: 1 }\n"), "spec.validation.checks[0]", "holds 2 checks (state, metric); write each check as its own list item"),
        new("state misspelt", Rollout(spec: "  validation:\n    checks:\n      - state: ⟨RUNING\n"), "spec.validation.checks[0].state", "'RUNING' is not one of RUNNING, DONE", "did you mean 'RUNNING'?"),
        new("metric without bounds", Rollout(spec: "  validation:\n    checks:\n      - ⟨metric: { name: ElementCount }\n"), "spec.validation.checks[0].metric", "needs min, max or both"),
        new("autoscaling bounds reversed", Rollout(spec: "  validation:\n    checks:\n      - autoscaling: { minWorkers: ⟨5, maxWorkers: 2 }\n"), "spec.validation.checks[0].autoscaling.minWorkers", "is 5, more than maxWorkers (2)", Schema: false),
        new("rollback unknown", Rollout(spec: "  rollback: ⟨automatic\n"), "spec.rollback", "'automatic' is not one of auto, manual", "did you mean 'auto'?"),
        new("update without from", Rollout(spec: "  strategy: ⟨update\n").Replace("  from:\n    version: v1\n    template: { kind: classic, gcsPath: gs://acme-templates/clickstream/v1 }\n", ""), "spec.strategy", "strategy update changes a running job in place, so 'from' must describe the job running now"),
        new("update with another job name", Rollout(spec: "  strategy: update\n", to: "    jobName: clickstream-next\n").Replace("  to:\n", "  ⟨to:\n"), "spec.to", "strategy update keeps the job name, but to.jobName is 'clickstream-next' and from.jobName is 'clickstream-v1'", Schema: false),
        new("rolling with one job name", Rollout(spec: "  strategy: rolling\n", to: "    jobName: clickstream-v1\n").Replace("  to:\n", "  ⟨to:\n"), "spec.to", "strategy rolling runs both jobs side by side, so they need different names, but both are 'clickstream-v1'", Schema: false),
        new("auto rollback without from", Rollout(spec: "  rollback: ⟨auto\n").Replace("  from:\n    version: v1\n    template: { kind: classic, gcsPath: gs://acme-templates/clickstream/v1 }\n", ""), "spec.rollback", "rollback: auto rolls back to the 'from' version, and this rollout has none"),
        new("onUpdateRefused without update", Rollout(spec: "  onUpdateRefused: ⟨restart\n"), "spec.onUpdateRefused", "applies only to strategy update"),

        // syntax
        new("duplicate key", Rollout(env: "      ⟨maxWorkers: 5"), "", "the field 'maxWorkers' appears twice in this object (first on line 14); keep one", Schema: false),
        new("bad indentation", "apiVersion: sluice/v1\nkind: Unschedule\nmetadata:\n  name: u\n ⟨spec: { dagId: d }\n", "", "invalid YAML", Schema: false),
        new("tab indentation", "apiVersion: sluice/v1\nkind: Unschedule\nmetadata:\n⟨\tname: u\nspec: { dagId: d }\n", "", "invalid YAML: a tab character indents this line", "indent with spaces, not tabs", Schema: false),
        new("unclosed quote", "apiVersion: sluice/v1\nkind: Unschedule\nmetadata: { name: ⟨\"u }\nspec: { dagId: d }\n", "", "invalid YAML", Schema: false),

        // schedule
        new("dagId invalid", Schedule().Replace("dagId: daily_sales", "dagId: ⟨daily sales"), "spec.dagId", "'daily sales' is not valid: dag ids are 1 to 250 letters"),
        new("preset misspelt", Schedule(schedule: "⟨\"@dayly\""), "spec.schedule", "'@dayly' is not a preset", "did you mean '@daily'?"),
        new("cron with seven fields", Schedule(schedule: "⟨\"0 0 0 * * * *\""), "spec.schedule", "has 7 fields; write 5 (minute hour day month weekday) or 6 (with seconds first)"),
        new("cron hour out of range", Schedule(schedule: "⟨\"0 25 * * *\""), "spec.schedule", "'0 25 * * *' is not a valid cron expression", Schema: false),
        new("cron never fires", Schedule(schedule: "⟨\"0 0 30 2 *\""), "spec.schedule", "never fires after startDate", Schema: false),
        new("schedule as a number", Schedule(schedule: "⟨3600"), "spec.schedule", "must be a string, not the number 3600", "quote it: \"3600\""),
        new("time zone misspelt", Schedule(zone: "⟨Europe/Berln"), "spec.timeZone", "'Europe/Berln' is not an IANA time zone", "did you mean 'Europe/Berlin'?", Schema: false),
        new("timezone in lowercase", Schedule().Replace("  timeZone: Europe/Berlin\n", "  ⟨timezone: Europe/Berlin\n"), "spec.timezone", "unknown field 'timezone' in a Schedule spec", "did you mean 'timeZone'?"),
        new("start date invalid", Schedule(start: "⟨2026-13-01"), "spec.startDate", "'2026-13-01' is not a date such as 2026-11-01", Schema: false),
        new("start date in the DST gap", Schedule(start: "⟨2026-03-29T02:30"), "spec.startDate", "2026-03-29T02:30 does not exist in Europe/Berlin", Schema: false),
        new("end before start", Schedule(spec: "  endDate: ⟨2026-10-01\n"), "spec.endDate", "is before startDate", Schema: false),
        new("maxActiveRuns zero", Schedule(spec: "  maxActiveRuns: ⟨0\n"), "spec.maxActiveRuns", "must be from 1 to 100, got 0"),
        new("catchup written yes", Schedule(spec: "  catchup: ⟨\"yes\"\n"), "spec.catchup", "must be true or false, not a string", "write true or false without quotes"),
        new("job missing", Schedule().Replace("  job:\n    template: { kind: classic, gcsPath: gs://acme-templates/sales/v7 }\n    jobName: \"daily-sales-{{ ds_nodash }}\"\n    parameters:\n      date: \"{{ ds }}\"", "").Replace("spec:\n", "⟨spec:\n"), "spec.job", "is required but missing"),
        new("unknown macro", Schedule().Replace("jobName: \"daily-sales-{{ ds_nodash }}\"", "jobName: ⟨\"daily-sales-{{ ds_nodahs }}\""), "spec.job.jobName", "unknown macro 'ds_nodahs'", "did you mean 'ds_nodash'?"),
        new("macro not closed", Schedule().Replace("jobName: \"daily-sales-{{ ds_nodash }}\"", "jobName: ⟨\"daily-sales-{{ ds_nodash\""), "spec.job.jobName", "the macro starting at character 13 is not closed"),
        new("unknown macro in a parameter", Schedule().Replace("date: \"{{ ds }}\"", "date: ⟨\"{{ execution_date }}\""), "spec.job.parameters.date", "unknown macro 'execution_date'"),
        new("unknown filter", Schedule().Replace("date: \"{{ ds }}\"", "date: ⟨\"{{ logical_date | fromat('yyyy') }}\""), "spec.job.parameters.date", "unknown filter 'fromat' on the macro 'logical_date'; did you mean 'format'?"),
        new("job name renders uppercase", Schedule().Replace("jobName: \"daily-sales-{{ ds_nodash }}\"", "jobName: \"daily-sales-{{ ts_nodash }}\"").Replace("  job:\n", "  ⟨job:\n"), "spec.job", "jobName renders to 'daily-sales-20261101T000000' for the slot 2026-11-01T00:00:00+01:00, which is not a valid Dataflow job name", Schema: false),
        new("job name repeats within a day", Schedule(schedule: "\"@hourly\"").Replace("  job:\n", "  ⟨job:\n"), "spec.job", "jobName renders to the same name 'daily-sales-20261101' for the slots 2026-11-01T00:00:00+01:00 and 2026-11-01T01:00:00+01:00", Schema: false),
        new("job name repeats at DST fall-back", Schedule(schedule: "\"@hourly\"", start: "2026-10-20").Replace("jobName: \"daily-sales-{{ ds_nodash }}\"", "jobName: \"sales-{{ logical_date | format('yyyyMMdd-HH') }}\"").Replace("  job:\n", "  ⟨job:\n"), "spec.job", "jobName renders to the same name 'sales-20261025-02' for the slots 2026-10-25T02:00:00+02:00 and 2026-10-25T02:00:00+01:00", Schema: false),
        new("retries maxDelay below delay", Schedule(spec: "  retries: { delay: 10m, maxDelay: ⟨5m }\n"), "spec.retries.maxDelay", "is 5m, shorter than delay (10m)", Schema: false),
        new("retries count too high", Schedule(spec: "  retries: { count: ⟨101 }\n"), "spec.retries.count", "must be from 0 to 100, got 101"),
        new("job timeout too short", Schedule(job: "    timeout: ⟨30s\n"), "spec.job.timeout", "must be between 1m and 30d, got 30s", Schema: false),

        // unschedule
        new("unschedule without dagId", "apiVersion: sluice/v1\nkind: Unschedule\nmetadata: { name: u }\n⟨spec: { cancelRunning: true }\n", "spec.dagId", "is required but missing"),
        new("cancelRunning not a boolean", "apiVersion: sluice/v1\nkind: Unschedule\nmetadata: { name: u }\nspec: { dagId: d, cancelRunning: ⟨1 }\n", "spec.cancelRunning", "must be true or false, not the number 1"),

        // JSON
        new("JSON missing comma", "{\"apiVersion\": \"sluice/v1\", \"kind\": \"Unschedule\"\n ⟨\"metadata\": {\"name\": \"u\"}, \"spec\": {\"dagId\": \"d\"}}\n", "", "invalid JSON", Schema: false, Path: "bad.json"),
        new("JSON unknown field", "{\"apiVersion\": \"sluice/v1\", \"kind\": \"Unschedule\",\n \"metadata\": {\"name\": \"u\"},\n \"spec\": {\"dagId\": \"d\", ⟨\"cancelRuning\": true}}\n", "spec.cancelRuning", "unknown field 'cancelRuning' in an Unschedule spec", "did you mean 'cancelRunning'?", Path: "bad.json"),
        new("JSON duplicate key", "{\"apiVersion\": \"sluice/v1\", \"kind\": \"Unschedule\", \"metadata\": {\"name\": \"u\"},\n \"spec\": {\"dagId\": \"d\", ⟨\"dagId\": \"e\"}}\n", "", "the field 'dagId' appears twice in this object (first on line 2); keep one", Schema: false, Path: "bad.json"),
    ];

    public static TheoryData<Case> All => [.. Cases];

    [Theory]
    [MemberData(nameof(All))]
    public void Reports_exactly_one_problem_at_the_marked_position(Case testCase)
    {
        var input = MarkedText.Parse(testCase.Marked);

        var result = ManifestReader.Read(input.Text, testCase.Path);

        var problem = Assert.Single(result.Problems);
        Assert.Equal(testCase.Path, problem.Path);
        Assert.Equal((input.Line, input.Column), (problem.Line, problem.Column));
        Assert.Equal(testCase.Field, problem.Field);
        Assert.Contains(testCase.Message, problem.Message, StringComparison.Ordinal);
        if (testCase.Hint is not null)
        {
            Assert.Equal(testCase.Hint, problem.Hint);
        }

        Assert.False(result.IsValid);
        Assert.Empty(result.Manifests);
    }

    [Fact]
    public void The_corpus_has_at_least_forty_cases_with_unique_names()
    {
        Assert.True(Cases.Count >= 40);
        Assert.Equal(Cases.Count, Cases.Select(c => c.Name).Distinct().Count());
    }

    [Fact]
    public void Five_mistakes_in_one_file_give_five_problems_in_one_run()
    {
        var text = """
            apiVersion: sluice/v1
            kind: Rollout
            metadata:
              name: clickstream-v2
            spec:
              pipeline: clickstream
              strategy: restrat
              stop: { mode: drain, timeout: 15 }
              to:
                version: v2
                template: { kind: flex, gcsPath: s3://acme/v2.json }
                environment:
                  maxWorker: 5
                  ipConfiguration: private
            """;

        var result = ManifestReader.Read(text, "five.yaml");

        Assert.Equal(
            [
                "five.yaml:7:13: error: spec.strategy: 'restrat' is not one of restart, rolling, update; did you mean 'restart'?",
                "five.yaml:8:33: error: spec.stop.timeout: '15' has no unit; write 15s, 15m or 15h",
                "five.yaml:11:38: error: spec.to.template.gcsPath: 's3://acme/v2.json' is not valid: a template path is gs://BUCKET/PATH, where BUCKET is 3 to 63 lowercase letters, digits, '-', '_' or '.'; for example gs://my-bucket/templates/my-job",
                "five.yaml:13:7: error: spec.to.environment.maxWorker: unknown field 'maxWorker' in a runtime environment; did you mean 'maxWorkers'?",
                "five.yaml:14:24: error: spec.to.environment.ipConfiguration: 'private' is not one of WORKER_IP_PUBLIC, WORKER_IP_PRIVATE; did you mean 'WORKER_IP_PRIVATE'?",
            ],
            result.Problems.Select(problem => problem.ToString()));
    }

    [Fact]
    public void Problems_of_several_documents_are_all_reported_and_valid_documents_are_kept()
    {
        var text = """
            apiVersion: sluice/v1
            kind: Unschedule
            metadata: { name: good }
            spec: { dagId: one }
            ---
            apiVersion: sluice/v1
            kind: Unschedule
            metadata: { name: bad }
            spec: { dagid: two }
            ---
            apiVersion: sluice/v1
            kind: Unschedule
            metadata: { name: good }
            spec: { dagId: three }
            """;

        var result = ManifestReader.Read(text, "multi.yaml");

        Assert.Equal(3, result.DocumentCount);
        var manifest = Assert.Single(result.Manifests);
        Assert.Equal("one", Assert.IsType<UnscheduleManifest>(manifest).DagId);
        Assert.Collection(
            result.Problems,
            p => Assert.Equal("multi.yaml:9:1: error: spec.dagId: is required but missing; add it, e.g. dagId: daily_sales", p.ToString()),
            p => Assert.Equal("multi.yaml:9:9: error: spec.dagid: unknown field 'dagid' in an Unschedule spec; did you mean 'dagId'?", p.ToString()),
            p => Assert.Equal("multi.yaml:11:1: error: metadata.name: another Unschedule named 'good' is at multi.yaml:1; give each manifest its own name", p.ToString()));
    }
}
