using System.Diagnostics;
using System.Globalization;
using Sluice.Dataflow;
using Sluice.Emulator;

namespace Sluice.Bench;

/// <summary>
/// Emulator launch latency and concurrency: launch → RUNNING as the emulator records it (createTime → the RUNNING
/// currentStateTime), for a trivial shell job and for the .NET streaming counter, one at a time and many at once.
/// </summary>
internal static class EmulatorBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = Option(args, "--count", 20);
        var concurrent = Option(args, "--concurrent", 30);
        var root = Path.Combine(Path.GetTempPath(), "sluice-bench-emulator-" + Guid.NewGuid().ToString("N")[..8]);
        var buckets = Path.Combine(root, "buckets");
        var jobsHome = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "examples", "jobs", "Sluice.ExampleJobs", "bin", "Release", "net10.0"));
        if (!File.Exists(Path.Combine(jobsHome, "sluice-example-jobs.dll")))
        {
            await Console.Error.WriteLineAsync($"error: build the example jobs first: dotnet build examples/jobs/Sluice.ExampleJobs -c Release (looked in {jobsHome})");
            return 1;
        }

        await ExampleTemplates.SeedAsync(buckets);
        var shell = BucketPaths.ToLocalPath(buckets, "gs://bench/templates/shell");
        Directory.CreateDirectory(Path.GetDirectoryName(shell)!);
        await File.WriteAllTextAsync(shell, """{"sluiceLocal": {"command": ["sh", "-c", "echo ready; exec sleep 600"], "streaming": true}}""");

        var host = await EmulatorHost.StartAsync(new EmulatorOptions { BucketsDirectory = buckets, SluiceHome = jobsHome, HandleSigterm = false });
        using var client = new DataflowClient(DataflowClientOptions.ForEmulator(host.BaseUri));
        try
        {
            Report("shell job (`sh -c 'echo ready; sleep'`), one at a time", await SequentialAsync(client, "gs://bench/templates/shell", count, _ => []));
            Report(".NET streaming counter, one at a time", await SequentialAsync(client, ExampleTemplates.StreamingCounter, Math.Min(count, 10),
                name => new() { ["output"] = $"gs://bench-out/{name}" }));
            var stopwatch = Stopwatch.StartNew();
            var shells = await ConcurrentAsync(client, "gs://bench/templates/shell", concurrent, _ => []);
            Report($"{concurrent} shell jobs launched at once (all RUNNING and cancelled after {stopwatch.Elapsed.TotalSeconds:0.0} s)", shells);
            stopwatch.Restart();
            var together = await ConcurrentAsync(client, ExampleTemplates.StreamingCounter, concurrent, name => new() { ["output"] = $"gs://bench-out/{name}" });
            Report($"{concurrent} .NET streaming counters launched at once (all RUNNING and cancelled after {stopwatch.Elapsed.TotalSeconds:0.0} s)", together);
        }
        finally
        {
            await host.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }

        return 0;
    }

    private static async Task<List<double>> SequentialAsync(DataflowClient client, string template, int count, Func<string, Dictionary<string, string>> parameters)
    {
        var latencies = new List<double>();
        for (var i = 0; i < count; i++)
        {
            var name = $"seq-{Guid.NewGuid():N}"[..12];
            latencies.Add(await LaunchAndMeasureAsync(client, template, name, parameters(name), cancel: true));
        }

        return latencies;
    }

    private static async Task<List<double>> ConcurrentAsync(DataflowClient client, string template, int count, Func<string, Dictionary<string, string>> parameters)
    {
        var names = Enumerable.Range(0, count).Select(_ => $"par-{Guid.NewGuid():N}"[..12]).ToList();
        var ids = new List<string>();
        var latencies = await Task.WhenAll(names.Select(name => LaunchAndMeasureAsync(client, template, name, parameters(name), cancel: false)));
        await foreach (var job in client.ListAllJobsAsync(JobListFilter.Active))
        {
            ids.Add(job.Id!);
        }

        await Task.WhenAll(ids.Select(id => client.CancelJobAsync(id)));
        return [.. latencies];
    }

    private static async Task<double> LaunchAndMeasureAsync(DataflowClient client, string template, string name, Dictionary<string, string> parameters, bool cancel)
    {
        var job = (await client.LaunchTemplateAsync(template, new LaunchTemplateParameters { JobName = name, Parameters = parameters })).Job!;
        Job current;
        while ((current = await client.GetJobAsync(job.Id!, JobView.Summary)).State == JobState.Pending)
        {
            await Task.Delay(5);
        }

        if (current.State != JobState.Running)
        {
            throw new InvalidOperationException($"job {name} ended {current.State} instead of running");
        }

        if (cancel)
        {
            await client.CancelJobAsync(job.Id!);
        }

        return (current.CurrentStateTime!.Value - current.CreateTime!.Value).TotalMilliseconds;
    }

    private static void Report(string what, List<double> latencies)
    {
        latencies.Sort();
        double At(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {what} | {latencies.Count} | {At(0.5):0} ms | {At(0.9):0} ms | {latencies[^1]:0} ms |"));
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
