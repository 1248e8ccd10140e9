using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Sluice.ExampleJobs;

/// <summary>
/// Streaming: emits numbered elements (generated ticks, or the lines of files dropped into <c>--inputDir</c>) to
/// <c>&lt;output&gt;/elements.txt</c> and per-window counts to <c>&lt;output&gt;/windows/</c>. On SIGTERM (drain, update)
/// it finishes the element in flight, flushes the open window, writes its checkpoint and exits 0, so the next job on
/// the same output continues at the next sequence number: nothing lost, nothing twice.
/// </summary>
internal static class StreamingCounter
{
    public static async Task<int> RunAsync(JobArguments arguments)
    {
        var output = LocalPaths.Resolve(arguments.Required("output"));
        var inputDir = arguments.Optional("inputDir") is { } input ? LocalPaths.Resolve(input) : null;
        var interval = TimeSpan.FromMilliseconds(Math.Max(1, arguments.Int("intervalMs", 200)));
        var window = TimeSpan.FromSeconds(Math.Max(1, arguments.Int("windowSeconds", 5)));
        var failAfter = arguments.Int("failAfter", 0);
        var jobId = Environment.GetEnvironmentVariable("DATAFLOW_JOB_ID") ?? "local";
        var clock = TimeProvider.System;
        Directory.CreateDirectory(Path.Combine(output, "windows"));

        using var stop = new CancellationTokenSource();
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            // Drain: stop taking new elements; the loop below finishes the one in flight.
            context.Cancel = true;
            stop.Cancel();
        });
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });

        var checkpointFile = Path.Combine(output, "checkpoint.json");
        var elementsFile = Path.Combine(output, "elements.txt");
        var checkpoint = await ReadCheckpointAsync(checkpointFile);
        // The elements file is the truth: after a kill (cancel) the checkpoint may lag behind it.
        var next = Math.Max(checkpoint.NextSequence, LastSequence(elementsFile) + 1);
        var processedFiles = checkpoint.ProcessedFiles.ToHashSet(StringComparer.Ordinal);
        Console.WriteLine(FormattableString.Invariant($"INFO: streaming-counter {jobId} starting at sequence {next}, output {output}"));

        await using var elements = new StreamWriter(new FileStream(elementsFile, FileMode.Append, FileAccess.Write, FileShare.Read));
        var emitted = 0;
        var windowStart = clock.GetUtcNow();
        var windowCount = 0;
        long windowFirst = next;

        async Task FlushWindowAsync(DateTimeOffset end)
        {
            if (windowCount == 0)
            {
                return;
            }

            var record = new WindowRecord(windowStart, end, windowCount, windowFirst, next - 1, jobId);
            var name = Path.Combine(output, "windows", FormattableString.Invariant($"{windowStart:yyyyMMdd'T'HHmmssfff}-{windowFirst}.json"));
            await LocalPaths.WriteAtomicallyAsync(name, JsonSerializer.Serialize(record, JsonOptions), CancellationToken.None);
            Console.WriteLine(FormattableString.Invariant($"DETAILED: window {windowStart:HH:mm:ss} counted {windowCount} elements"));
            windowStart = end;
            windowCount = 0;
            windowFirst = next;
        }

        async Task EmitAsync(string payload)
        {
            await elements.WriteLineAsync(FormattableString.Invariant($"{next}\t{jobId}\t{payload}"));
            await elements.FlushAsync(CancellationToken.None);
            Console.WriteLine("@@metric counter ElementCount 1");
            Console.WriteLine(FormattableString.Invariant($"@@metric gauge LastSequence {next}"));
            next++;
            emitted++;
            windowCount++;
        }

        while (!stop.IsCancellationRequested)
        {
            if (failAfter > 0 && emitted >= failAfter)
            {
                await Console.Error.WriteLineAsync(FormattableString.Invariant($"ERROR: simulated failure after {emitted} elements (--failAfter={failAfter})"));
                await WriteCheckpointAsync(checkpointFile, new Checkpoint(next, [.. processedFiles]));
                return 1;
            }

            if (inputDir is null)
            {
                await EmitAsync(FormattableString.Invariant($"tick-{next}"));
            }
            else
            {
                await ConsumeNewFilesAsync(inputDir, processedFiles, EmitAsync);
            }

            if (emitted > 0 && emitted % 50 == 0)
            {
                Console.WriteLine(FormattableString.Invariant($"INFO: emitted {emitted} elements; next sequence {next}"));
            }

            var now = clock.GetUtcNow();
            if (now - windowStart >= window)
            {
                await FlushWindowAsync(now);
                await WriteCheckpointAsync(checkpointFile, new Checkpoint(next, [.. processedFiles]));
            }

            try
            {
                await Task.Delay(interval, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // Drain requested between elements.
            }
        }

        // Drain: the element in flight is written; flush the open window and the checkpoint, then exit cleanly.
        await FlushWindowAsync(clock.GetUtcNow());
        await WriteCheckpointAsync(checkpointFile, new Checkpoint(next, [.. processedFiles]));
        Console.WriteLine(FormattableString.Invariant($"INFO: drained after {emitted} elements; the next job continues at sequence {next}"));
        return 0;
    }

    private static async Task ConsumeNewFilesAsync(string inputDir, HashSet<string> processedFiles, Func<string, Task> emit)
    {
        if (!Directory.Exists(inputDir))
        {
            return;
        }

        foreach (var file in Directory.GetFiles(inputDir).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            if (processedFiles.Contains(name) || name.Contains(".tmp", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var line in await File.ReadAllLinesAsync(file))
            {
                if (line.Length > 0)
                {
                    await emit(line);
                }
            }

            // A whole file is one unit of work: it is marked processed only after all its lines were emitted.
            processedFiles.Add(name);
            Console.WriteLine($"INFO: consumed {name}");
        }
    }

    private static long LastSequence(string elementsFile)
    {
        if (!File.Exists(elementsFile))
        {
            return -1;
        }

        long last = -1;
        foreach (var line in File.ReadLines(elementsFile))
        {
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab > 0 && long.TryParse(line.AsSpan(0, tab), NumberStyles.Integer, CultureInfo.InvariantCulture, out var sequence))
            {
                last = Math.Max(last, sequence);
            }
        }

        return last;
    }

    private static async Task<Checkpoint> ReadCheckpointAsync(string file)
    {
        if (!File.Exists(file))
        {
            return new Checkpoint(0, []);
        }

        return JsonSerializer.Deserialize<Checkpoint>(await File.ReadAllTextAsync(file), JsonOptions) ?? new Checkpoint(0, []);
    }

    private static Task WriteCheckpointAsync(string file, Checkpoint checkpoint) =>
        LocalPaths.WriteAtomicallyAsync(file, JsonSerializer.Serialize(checkpoint, JsonOptions), CancellationToken.None);

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private sealed record Checkpoint(long NextSequence, List<string> ProcessedFiles);

    private sealed record WindowRecord(DateTimeOffset Start, DateTimeOffset End, int Count, long FirstSequence, long LastSequence, string JobId);
}
