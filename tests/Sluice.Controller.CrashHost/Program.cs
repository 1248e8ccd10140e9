using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sluice.Controller;
using Sluice.Controller.CrashHost;
using Sluice.Controller.Rollouts;
using Sluice.Dataflow;
using Sluice.Engine;
using Sluice.Manifests;

// Usage: Sluice.Controller.CrashHost --store URI --emulator URL [--apply FILE --key KEY] [--run ID] [--crash-at POINT]
// Runs the engine with the rollout flow against the emulator. --apply starts the manifest's rollout (idempotent by
// --key); the process then waits for that run (or --run) to finish and prints "finished STATE". With --crash-at it
// kills itself with SIGKILL at that point instead (see CrashPoint), printing "crash POINT" first.
var arguments = new Dictionary<string, string>();
for (var i = 0; i + 1 < args.Length; i += 2)
{
    arguments[args[i].TrimStart('-')] = args[i + 1];
}

var crash = arguments.TryGetValue("crash-at", out var point) ? CrashPoint.Parse(point) : null;
var emulator = new Uri(arguments["emulator"]);
var services = new ServiceCollection();
services.AddLogging(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning));
services.AddSluiceEngine(arguments["store"], o =>
{
    o.PollInterval = TimeSpan.FromMilliseconds(50);
    o.QueuedRecheckInterval = TimeSpan.FromSeconds(1);
});
services.AddSluiceRollouts(o =>
{
    o.PollInterval = TimeSpan.FromMilliseconds(100);
    o.StepRetry = new Sluice.Engine.RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromMilliseconds(100) };
});
services.AddSingleton<IDataflowClients>(new DataflowClientCache(
    "sluice-local", "us-central1", (project, region) =>
    {
        IDataflowClient client = new DataflowClient(DataflowClientOptions.ForEmulator(emulator, project, region));
        return crash is null ? client : new CrashingDataflowClient(client, crash);
    }));
if (crash is not null)
{
    CrashingStepHandler.Decorate(services, crash);
}

await using var provider = services.BuildServiceProvider();
var engine = provider.GetRequiredService<WorkflowEngine>();
await engine.EnsureStoreReadyAsync(CancellationToken.None);
long runId;
if (arguments.TryGetValue("apply", out var file))
{
    var read = ManifestReader.ReadFile(file);
    if (!read.IsValid)
    {
        Console.Error.WriteLine(string.Join("\n", read.Problems));
        return 2;
    }

    runId = await provider.GetRequiredService<RolloutService>().StartAsync(
        (RolloutManifest)read.Manifests[0], arguments["key"], "crash-test", CancellationToken.None);
}
else
{
    runId = long.Parse(arguments["run"], System.Globalization.CultureInfo.InvariantCulture);
}

Console.WriteLine($"run {runId}");
Console.WriteLine("started");
using var stop = new CancellationTokenSource();
var loop = Task.Run(() => engine.RunLoopAsync(stop.Token));
var run = await engine.WaitForRunAsync(runId, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(3));
// The rollback of a failed rollout is started by an observer after the run finished; wait for it too.
Console.WriteLine($"finished {run.Run.Status.ToStored()}");
await stop.CancelAsync();
try
{
    await loop;
}
catch (OperationCanceledException)
{
    // Stopped.
}

return crash is null ? 0 : 3; // 3: the crash point was never reached

namespace Sluice.Controller.CrashHost
{
    /// <summary>
    /// Where to die: <c>step:NAME:before[:N]</c> (the Nth call of a step handler, before it runs),
    /// <c>step:NAME:after</c> (the handler returned, its outcome not yet stored), or <c>dataflow:METHOD:after</c>
    /// (Dataflow answered the request, nobody recorded the answer yet).
    /// </summary>
    public sealed record CrashPoint(string Target, string Name, string When, int Call)
    {
        private int calls;

        public static CrashPoint Parse(string text)
        {
            var parts = text.Split(':');
            return new CrashPoint(parts[0], parts[1], parts[2], parts.Length > 3 ? int.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture) : 1);
        }

        /// <summary>Kills the process (SIGKILL) if this is the point.</summary>
        public void Check(string target, string name, string when)
        {
            if (target != Target || name != Name || when != When || Interlocked.Increment(ref calls) != Call)
            {
                return;
            }

            Console.WriteLine($"crash {Target}:{Name}:{When}:{Call}");
            Console.Out.Flush();
            Process.GetCurrentProcess().Kill();
            Thread.Sleep(Timeout.Infinite);
        }
    }

    internal sealed class CrashingStepHandler(IStepHandler inner, CrashPoint crash) : IStepHandler
    {
        public string Kind => inner.Kind;

        public static void Decorate(IServiceCollection services, CrashPoint crash)
        {
            var registrations = services.Where(d => d.ServiceType == typeof(IStepHandler)).ToList();
            foreach (var registration in registrations)
            {
                services.Remove(registration);
                var type = registration.ImplementationType!;
                services.AddSingleton<IStepHandler>(sp => new CrashingStepHandler((IStepHandler)ActivatorUtilities.CreateInstance(sp, type), crash));
            }
        }

        public async Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
        {
            crash.Check("step", context.Step.Name, "before");
            var outcome = await inner.ExecuteAsync(context, cancellationToken);
            crash.Check("step", context.Step.Name, "after");
            return outcome;
        }
    }
}
