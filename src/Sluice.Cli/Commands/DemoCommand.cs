using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Sluice.Cli.Client;
using Sluice.Server.Api;
using Sluice.Server.Configuration;
using Sluice.Server.Hosting;

namespace Sluice.Cli.Commands;

/// <summary>
/// <c>sluice demo</c>: starts the embedded system (SQLite, local buckets, the Dataflow emulator) in a fresh data
/// directory and runs the examples end to end through the public API, checking every expectation on the way.
/// </summary>
internal static class DemoCommand
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    public static Command Create()
    {
        var command = new Command("demo", "Run the examples end to end on the embedded system: three rollouts (one rolled back) and a daily schedule with catch-up");
        var dataDir = new Option<string>("--data-dir") { Description = "Data directory of the demo; emptied first", DefaultValueFactory = _ => ".sluice-demo" };
        var port = new Option<int>("--port") { Description = "Port of the API and UI (0 picks a free one)", DefaultValueFactory = _ => 0 };
        var keepRunning = new Option<bool>("--keep-running") { Description = "Keep the server (and its UI) running after the demo until Ctrl+C" };
        var timeoutSeconds = new Option<int>("--timeout-seconds") { Description = "How long each expectation may take", DefaultValueFactory = _ => 120 };
        command.Options.Add(dataDir);
        command.Options.Add(port);
        command.Options.Add(keepRunning);
        command.Options.Add(timeoutSeconds);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var demo = new Demo(
                parseResult.InvocationConfiguration.Output,
                parseResult.InvocationConfiguration.Error,
                TimeSpan.FromSeconds(parseResult.GetValue(timeoutSeconds)));
            try
            {
                return await demo.RunAsync(parseResult.GetValue(dataDir)!, parseResult.GetValue(port), parseResult.GetValue(keepRunning), cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return CliCommand.Report(parseResult.InvocationConfiguration.Error, e);
            }
        });
        return command;
    }

    /// <summary>The examples the demo applies; they ship next to the binary (see Sluice.Cli.csproj).</summary>
    internal static string ExamplesDirectory
    {
        get
        {
            var shipped = Path.Combine(AppContext.BaseDirectory, "examples", "manifests");
            return Directory.Exists(shipped) ? shipped : Path.GetFullPath(Path.Combine("examples", "manifests"));
        }
    }

    private sealed class Demo(TextWriter output, TextWriter error, TimeSpan expectationTimeout)
    {
        private readonly List<(string Expectation, bool Held, string Detail, TimeSpan Took)> _results = [];
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public async Task<int> RunAsync(string dataDirectory, int port, bool keepRunning, CancellationToken cancellationToken)
        {
            var examples = ExamplesDirectory;
            if (!File.Exists(Path.Combine(examples, "clickstream-v1.yaml")))
            {
                await error.WriteLineAsync($"error: the example manifests are missing from {examples}; run the demo from the Sluice checkout or a complete build.");
                return ExitCodes.Failed;
            }

            var fullDataDirectory = Path.GetFullPath(dataDirectory);
            if (Directory.Exists(fullDataDirectory))
            {
                // A fresh start each time: the demo's expectations (first deploy, exactly three slots) assume an empty store.
                Directory.Delete(fullDataDirectory, recursive: true);
            }

            var config = SluiceConfig.Embedded(fullDataDirectory) with
            {
                Port = port,
                LogFormat = LogFormat.Text,
                LogLevel = Microsoft.Extensions.Logging.LogLevel.Warning,
            };
            await SayAsync($"starting Sluice in {fullDataDirectory} (SQLite, local buckets, embedded Dataflow emulator)");
            var builder = SluiceServerBuilder.Create(config).AddProductModules();
            builder.HandleSignals = false;
            await using var server = builder.Build();
            await server.StartAsync(cancellationToken);
            var token = server.BootstrapAdminToken ?? (await File.ReadAllTextAsync(config.AdminTokenFile, cancellationToken)).Trim();
            using var client = new SluiceApiClient(server.BaseUri, token);
            await SayAsync($"Sluice is up at {server.BaseUri} (UI: {server.BaseUri}ui)");

            // The schedule runs its three catch-up slots while the rollouts go on.
            await ExpectAsync("the daily schedule is registered", () => ApplyScheduleAsync(client, examples, cancellationToken));
            await ExpectAsync("first deploy of clickstream v1 succeeds", () => RolloutAsync(client, examples, "clickstream-v1", "succeeded", "v1", cancellationToken));
            await ExpectAsync("restart rollout of clickstream to v2 succeeds", () => RolloutAsync(client, examples, "clickstream-v2", "succeeded", "v2", cancellationToken));
            await ExpectAsync("rollout to the failing v3 fails and rolls back to v2 by itself", () => FailingRolloutAsync(client, examples, cancellationToken));
            await ExpectAsync("the daily schedule ran 3 word-count jobs, all DONE", () => ScheduleSlotsAsync(client, cancellationToken));

            await SummaryAsync(server.BaseUri, token, config);
            var allHeld = _results.TrueForAll(r => r.Held);
            if (keepRunning)
            {
                await SayAsync($"the server keeps running at {server.BaseUri}ui; stop it with Ctrl+C");
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C ends the demo normally.
                }
            }

            await server.StopAsync(CancellationToken.None);
            return allHeld ? ExitCodes.Ok : ExitCodes.Failed;
        }

        private async Task ExpectAsync(string expectation, Func<Task<string>> check)
        {
            var started = _clock.Elapsed;
            await SayAsync($"▶ {expectation}");
            bool held;
            string detail;
            try
            {
                detail = await check();
                held = true;
            }
            catch (DemoExpectationException e)
            {
                detail = e.Message;
                held = false;
            }
            catch (SluiceApiException e)
            {
                detail = e.Message;
                held = false;
            }

            var took = _clock.Elapsed - started;
            _results.Add((expectation, held, detail, took));
            await SayAsync($"{(held ? "✔" : "✘")} {expectation} ({took.TotalSeconds:0.0} s): {detail}");
        }

        private async Task<string> ApplyScheduleAsync(SluiceApiClient client, string examples, CancellationToken cancellationToken)
        {
            var applied = await ApplyAsync(client, examples, "daily-wordcount.yaml", cancellationToken);
            var schedule = await PollAsync(
                $"schedule {applied.DagId}",
                () => TryGetAsync(() => client.GetScheduleAsync(applied.DagId!, 10, cancellationToken)),
                s => s is not null,
                cancellationToken);
            return $"{schedule!.DagId}: {schedule.Schedule} from {schedule.StartDate} to {schedule.EndDate}, catchup {schedule.Catchup}";
        }

        private async Task<string> RolloutAsync(SluiceApiClient client, string examples, string name, string expectedState, string expectedVersion, CancellationToken cancellationToken)
        {
            await ApplyAsync(client, examples, name + ".yaml", cancellationToken);
            var rollout = await FollowRolloutAsync(client, name, cancellationToken);
            if (rollout.State != expectedState)
            {
                throw new DemoExpectationException($"rollout {name} ended {rollout.State}: {rollout.Reason ?? "no reason given"}");
            }

            var pipeline = await client.GetPipelineAsync(rollout.Pipeline, cancellationToken);
            if (pipeline.Version != expectedVersion || pipeline.JobState != "JOB_STATE_RUNNING")
            {
                throw new DemoExpectationException($"pipeline {pipeline.Name} runs {pipeline.Version ?? "nothing"} ({pipeline.JobState ?? "no job"}), expected {expectedVersion} running");
            }

            return $"{pipeline.Name} runs {pipeline.Version} as job {pipeline.JobName} ({pipeline.JobId})";
        }

        private async Task<string> FailingRolloutAsync(SluiceApiClient client, string examples, CancellationToken cancellationToken)
        {
            await ApplyAsync(client, examples, "clickstream-v3.yaml", cancellationToken);
            var failed = await FollowRolloutAsync(client, "clickstream-v3", cancellationToken);
            if (failed.State != "failed")
            {
                throw new DemoExpectationException($"rollout clickstream-v3 ended {failed.State}, expected failed");
            }

            // The automatic rollback is linked from the failed rollout as soon as it is started.
            var failedWithLink = await PollAsync(
                "the automatic rollback of clickstream-v3",
                () => client.GetRolloutAsync("clickstream-v3", cancellationToken),
                r => r.RolledBackBy is not null,
                cancellationToken);
            var rollback = await FollowRolloutAsync(client, failedWithLink.RolledBackBy!, cancellationToken);
            if (rollback.State != "succeeded")
            {
                throw new DemoExpectationException($"the rollback {rollback.Name} ended {rollback.State}: {rollback.Reason ?? "no reason given"}");
            }

            var pipeline = await client.GetPipelineAsync("clickstream", cancellationToken);
            if (pipeline.Version != "v2" || pipeline.JobState != "JOB_STATE_RUNNING")
            {
                throw new DemoExpectationException($"after the rollback clickstream runs {pipeline.Version ?? "nothing"} ({pipeline.JobState ?? "no job"}), expected v2 running");
            }

            return $"v3 failed ({failed.Reason}); {rollback.Name} brought back v2 as job {pipeline.JobName} ({pipeline.JobId})";
        }

        private async Task<string> ScheduleSlotsAsync(SluiceApiClient client, CancellationToken cancellationToken)
        {
            var schedule = await PollAsync(
                "three finished slots of daily_wordcount",
                () => client.GetScheduleAsync("daily_wordcount", 10, cancellationToken),
                s => s.Slots is { Count: >= 3 } slots && slots.All(slot => slot.State is "succeeded" or "failed" or "cancelled" or "skipped"),
                cancellationToken);
            var slots = schedule.Slots!.OrderBy(s => s.LogicalDate).ToList();
            var notDone = slots.Where(s => s.State != "succeeded").ToList();
            if (slots.Count != 3 || notDone.Count > 0)
            {
                throw new DemoExpectationException(
                    $"expected 3 succeeded slots, got {slots.Count}: " +
                    string.Join(", ", slots.Select(s => $"{s.LogicalDate:yyyy-MM-dd} {s.State}{(s.Reason is null ? "" : " (" + s.Reason + ")")}")));
            }

            foreach (var slot in slots)
            {
                var job = await client.GetJobAsync(slot.JobId!, cancellationToken);
                if (job.State != "JOB_STATE_DONE")
                {
                    throw new DemoExpectationException($"the job of slot {slot.LogicalDate:yyyy-MM-dd} ({job.Name}) is {job.State}, expected JOB_STATE_DONE");
                }
            }

            return string.Join(", ", slots.Select(s => $"{s.LogicalDate:yyyy-MM-dd} → {s.JobName}"));
        }

        private async Task<AppliedManifestResource> ApplyAsync(SluiceApiClient client, string examples, string file, CancellationToken cancellationToken)
        {
            var path = Path.Combine(examples, file);
            var response = await client.ApplyAsync(
                new ApplyRequest { Files = [new ManifestFileRequest(file, await File.ReadAllTextAsync(path, cancellationToken))] },
                cancellationToken);
            var applied = response.Manifests.Single();
            await SayAsync($"  applied {file} → {applied.Bucket}/{applied.Object} ({applied.Action}{(applied.Plan is null ? "" : ": " + applied.Plan)})");
            if (applied.Generation is { } generation)
            {
                var recorded = await PollAsync(
                    $"the event of {applied.Object}",
                    async () => (await client.ListEventsAsync(null, applied.Bucket, applied.Object, generation, 5, cancellationToken)).Items.FirstOrDefault(e => e.Generation == generation),
                    e => e is not null,
                    cancellationToken);
                if (recorded!.State == "rejected")
                {
                    throw new DemoExpectationException($"Sluice rejected {file}: {recorded.Reason}");
                }
            }

            return applied;
        }

        private async Task<RolloutResource> FollowRolloutAsync(SluiceApiClient client, string name, CancellationToken cancellationToken)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var rollout = await PollAsync(
                $"rollout {name}",
                async () =>
                {
                    var current = await TryGetAsync(() => client.GetRolloutAsync(name, cancellationToken));
                    foreach (var step in current?.Steps ?? [])
                    {
                        if (step.State is "succeeded" or "failed" or "skipped" or "cancelled" && seen.Add(step.Name + "#" + step.Attempt))
                        {
                            var took = step.DurationSeconds is { } d ? $" in {d:0.0} s" : "";
                            await SayAsync($"  {name}: {step.Name} {step.State}{took}{(step.Reason is null ? "" : ": " + step.Reason)}");
                        }
                    }

                    return current;
                },
                r => r?.State is "succeeded" or "failed" or "cancelled",
                cancellationToken);
            return rollout!;
        }

        private async Task<T> PollAsync<T>(string what, Func<Task<T>> get, Func<T, bool> done, CancellationToken cancellationToken)
        {
            var deadline = _clock.Elapsed + expectationTimeout;
            while (true)
            {
                var value = await get();
                if (done(value))
                {
                    return value;
                }

                if (_clock.Elapsed > deadline)
                {
                    throw new DemoExpectationException($"gave up waiting for {what} after {expectationTimeout.TotalSeconds:0} s");
                }

                await Task.Delay(PollInterval, cancellationToken);
            }
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
                return null;
            }
        }

        private async Task SummaryAsync(Uri baseUri, string token, SluiceConfig config)
        {
            await output.WriteLineAsync();
            await output.WriteLineAsync("Summary");
            foreach (var (expectation, held, _, took) in _results)
            {
                await output.WriteLineAsync($"  {(held ? "✔ held  " : "✘ FAILED")}  {expectation} ({took.TotalSeconds:0.0} s)");
            }

            var heldCount = _results.Count(r => r.Held);
            await output.WriteLineAsync($"{heldCount} of {_results.Count} expectations held in {_clock.Elapsed.TotalSeconds:0.0} s.");
            await output.WriteLineAsync($"UI: {baseUri}ui (sign in with the admin token in {config.AdminTokenFile}; token prefix {token[..Math.Min(12, token.Length)]})");
            await output.WriteLineAsync($"To browse the result later: sluice up --data-dir {config.DataDirectory}");
            await output.FlushAsync();
        }

        private async Task SayAsync(string line)
        {
            await output.WriteLineAsync($"[{_clock.Elapsed.TotalSeconds,5:0.0}s] {line}");
            await output.FlushAsync();
        }
    }

    private sealed class DemoExpectationException(string message) : Exception(message);
}
