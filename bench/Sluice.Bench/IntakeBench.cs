using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sluice.Controller;
using Sluice.Controller.Intake;
using Sluice.Controller.Rollouts;
using Sluice.Dataflow;
using Sluice.Emulator;
using Sluice.Engine;
using Sluice.Manifests;

namespace Sluice.Bench;

/// <summary>
/// `bench intake [--count N] [--store sqlite|postgres]`: the embedded default's path from a manifest file's rename
/// into the watched rollouts directory to the rollout's first call to the runner (the Dataflow API of the local
/// emulator). One rollout at a time, each of its own pipeline; the real watcher, event ledger, rollout flow and engine
/// run in this process; the runner calls go over loopback HTTP to the emulator and are timed as they leave the client.
/// </summary>
internal static class IntakeBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = Option(args, "--count") is { } c ? int.Parse(c, CultureInfo.InvariantCulture) : 100;
        var storeKind = Option(args, "--store") ?? "sqlite";
        var root = Directory.CreateTempSubdirectory("sluice-bench-intake-").FullName;
        try
        {
            var store = storeKind switch
            {
                "sqlite" => "sqlite://" + Path.Combine(root, "sluice.db"),
                "postgres" => System.Environment.GetEnvironmentVariable("SLUICE_TEST_POSTGRES") is { Length: > 0 } pg
                    ? pg
                    : throw new InvalidOperationException("--store postgres needs SLUICE_TEST_POSTGRES (an Npgsql connection string of an empty database)."),
                _ => throw new ArgumentException($"--store must be sqlite or postgres, not '{storeKind}'."),
            };
            var result = await MeasureAsync(root, store, count);
            Console.WriteLine($"## Event intake\n\nEmbedded default ({storeKind} store, local bucket, emulator runner), {count} rollouts one at a time, {System.Environment.ProcessorCount} cores.\n");
            Console.WriteLine("| measurement | p50 | p90 | p99 | max |");
            Console.WriteLine("|---|---|---|---|---|");
            Row("rename → the rollout flow is called (event taken in, read, validated, template checked)", result.Dispatch);
            Row("rename → the rollout's first runner call (run started, engine picked it up, check-current)", result.FirstRunnerCall);
            return 0;
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<(List<double> Dispatch, List<double> FirstRunnerCall)> MeasureAsync(string root, string store, int count)
    {
        var buckets = Path.Combine(root, "buckets");
        var template = Path.Combine(buckets, "sluice-bench", "templates", "sleeper.json");
        Directory.CreateDirectory(Path.GetDirectoryName(template)!);
        await File.WriteAllTextAsync(template, """{"sluiceLocal": {"command": ["sh", "-c", "echo ready; sleep 3"], "streaming": true}}""");
        var rollouts = Path.Combine(buckets, "manifests");
        Directory.CreateDirectory(rollouts);

        await using var emulator = await EmulatorHost.StartAsync(new EmulatorOptions { BucketsDirectory = buckets, Port = 0, HandleSigterm = false });
        var runner = new RunnerCalls();
        var dispatched = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        var services = builder.Services;
        services.AddSluiceEngine(store);
        services.AddSingleton<IDataflowClients>(_ => new DataflowClientCache("sluice-local", "us-central1", (project, region) =>
            new DataflowClient(DataflowClientOptions.ForEmulator(emulator.BaseUri, project, region), runner.CreateHandler())));
        services.AddSluiceRollouts();
        services.AddSingleton<IRolloutStarter>(sp => new TimedStarter(sp.GetRequiredService<RolloutService>(), dispatched));
        services.AddSluiceIntake(options =>
        {
            options.Buckets.BucketsDirectory = buckets;
            options.LocalTemplatesDirectory = buckets;
        });
        using var host = builder.Build();
        await host.StartAsync();
        var engine = host.Services.GetRequiredService<WorkflowEngine>();

        var toDispatch = new List<double>();
        var toRunner = new List<double>();
        try
        {
            for (var i = -5; i < count; i++)
            {
                // The first five warm the JIT and the connection pools; they are not counted.
                var name = $"bench-{i + 5:D4}";
                var temp = Path.Combine(rollouts, $".{name}.yaml.tmp");
                await File.WriteAllTextAsync(temp, Manifest(name));
                var requestsBefore = runner.Count;
                var renamed = Stopwatch.GetTimestamp();
                File.Move(temp, Path.Combine(rollouts, name + ".yaml"));

                var firstCall = await runner.WaitForRequestAfterAsync(requestsBefore, TimeSpan.FromSeconds(30));
                var dispatchedAt = dispatched[name];
                if (i >= 0)
                {
                    toDispatch.Add(Stopwatch.GetElapsedTime(renamed, dispatchedAt).TotalMilliseconds);
                    toRunner.Add(Stopwatch.GetElapsedTime(renamed, firstCall).TotalMilliseconds);
                }

                // Stop the rollout so that it does not go on launching while the next one is timed.
                var page = await engine.ListRunsAsync(new RunQuery { Name = name, Limit = 1 }, CancellationToken.None);
                foreach (var run in page.Runs)
                {
                    await engine.CancelRunAsync(run.Id, "benchmark: only the first runner call is timed", CancellationToken.None);
                }

                await Task.Delay(20);
            }
        }
        finally
        {
            await host.StopAsync();
        }

        return (toDispatch, toRunner);
    }

    private static string Manifest(string name) => $"""
        apiVersion: sluice/v1
        kind: Rollout
        metadata:
          name: {name}
        spec:
          pipeline: {name}
          strategy: restart
          to:
            version: v1
            template:
              kind: classic
              gcsPath: gs://sluice-bench/templates/sleeper.json
        """;

    private static void Row(string what, List<double> samples)
    {
        samples.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {what} | {Percentile(samples, 0.50):F1} ms | {Percentile(samples, 0.90):F1} ms | {Percentile(samples, 0.99):F1} ms | {samples[^1]:F1} ms |"));
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    /// <summary>Calls the rollout flow and notes when intake handed it the manifest.</summary>
    private sealed class TimedStarter(RolloutService rollouts, ConcurrentDictionary<string, long> dispatched) : IRolloutStarter
    {
        public Task<long> StartAsync(RolloutManifest manifest, string idempotencyKey, string source, CancellationToken cancellationToken)
        {
            dispatched.TryAdd(manifest.Metadata.Name, Stopwatch.GetTimestamp());
            return rollouts.StartAsync(manifest, idempotencyKey, source, cancellationToken);
        }
    }

    /// <summary>Times every request of the Dataflow clients as it leaves for the runner.</summary>
    private sealed class RunnerCalls
    {
        private readonly List<long> _times = [];
        private readonly Lock _lock = new();

        public int Count
        {
            get
            {
                lock (_lock)
                {
                    return _times.Count;
                }
            }
        }

        public HttpMessageHandler CreateHandler() => new Recorder(this) { InnerHandler = new SocketsHttpHandler() };

        public async Task<long> WaitForRequestAfterAsync(int index, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                lock (_lock)
                {
                    if (_times.Count > index)
                    {
                        return _times[index];
                    }
                }

                await Task.Delay(1);
            }

            throw new TimeoutException($"The rollout made no runner call within {timeout.TotalSeconds:0}s.");
        }

        private void Add(long timestamp)
        {
            lock (_lock)
            {
                _times.Add(timestamp);
            }
        }

        private sealed class Recorder(RunnerCalls calls) : DelegatingHandler
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                calls.Add(Stopwatch.GetTimestamp());
                return base.SendAsync(request, cancellationToken);
            }
        }
    }
}
