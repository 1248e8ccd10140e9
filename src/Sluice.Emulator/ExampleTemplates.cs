using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sluice.Emulator;

/// <summary>
/// The example jobs as templates in the local buckets, for the demo, the docs and tests. Everything lives in the bucket
/// <c>sluice-examples</c>; the jobs run as <c>dotnet ${SLUICE_HOME}/sluice-example-jobs.dll JOB</c>.
/// </summary>
public static class ExampleTemplates
{
    public const string Bucket = "sluice-examples";

    /// <summary>Classic batch template; parameters <c>inputFile</c> and <c>output</c> (gs:// paths).</summary>
    public const string WordCount = "gs://sluice-examples/templates/wordcount";

    /// <summary>Classic streaming template; parameters <c>output</c> (required), <c>intervalMs</c>, <c>windowSeconds</c>, <c>inputDir</c>, <c>failAfter</c>.</summary>
    public const string StreamingCounter = "gs://sluice-examples/templates/streaming-counter.json";

    /// <summary>The streaming counter that fails after 10 elements (about 2 s): for rollback demos.</summary>
    public const string StreamingCounterFailing = "gs://sluice-examples/templates/streaming-counter-failing.json";

    /// <summary>The streaming counter as a flex template spec.</summary>
    public const string StreamingCounterFlex = "gs://sluice-examples/templates/streaming-counter-flex.json";

    /// <summary>
    /// A later version of the flex template whose window transform is renamed (<c>WindowCounts</c> → <c>CountPerWindow</c>):
    /// an in-place update from <see cref="StreamingCounterFlex"/> needs the transform name mapping
    /// <c>{"WindowCounts": "CountPerWindow"}</c>, and without it the new job fails its compatibility check.
    /// </summary>
    public const string StreamingCounterFlexV2 = "gs://sluice-examples/templates/streaming-counter-flex-v2.json";

    /// <summary>How many days of word-count input <see cref="SeedAsync"/> writes, ending tomorrow (UTC).</summary>
    public const int SeededInputDays = 14;

    private static readonly string[] Transforms = ["ReadInput", "WindowCounts", "WriteOutput"];
    private static readonly string[] TransformsV2 = ["ReadInput", "CountPerWindow", "WriteOutput"];

    /// <summary>The word-count input of one day: <c>gs://sluice-examples/data/words-YYYYMMDD.txt</c>.</summary>
    public static string WordsInput(DateOnly day) =>
        $"gs://{Bucket}/data/words-{day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}.txt";

    /// <summary>
    /// Writes the example templates and the word-count input for the last <see cref="SeededInputDays"/> days (through
    /// tomorrow, UTC) into <paramref name="bucketsDirectory"/>. Safe to run again: files are rewritten atomically.
    /// </summary>
    public static async Task SeedAsync(string bucketsDirectory, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        var counterCommand = Command("streaming-counter");
        await WriteJsonAsync(bucketsDirectory, WordCount, new JsonObject
        {
            ["sluiceLocal"] = new JsonObject { ["command"] = Command("wordcount"), ["transforms"] = Array("ReadLines", "CountWords", "WriteCounts") },
        }, cancellationToken);
        await WriteJsonAsync(bucketsDirectory, WordCount + "_metadata", new JsonObject
        {
            ["name"] = "Word count",
            ["description"] = "Batch: counts the words of a text file in the local buckets.",
            ["streaming"] = false,
            ["parameters"] = new JsonArray(
                Parameter("inputFile", "Input file", "gs:// path of the text to count; * matches several files.", optional: false, "^gs://[^/]+/.+$"),
                Parameter("output", "Output file", "gs:// path of the counts to write.", optional: false, "^gs://[^/]+/.+$")),
        }, cancellationToken);

        await WriteJsonAsync(bucketsDirectory, StreamingCounter, ClassicCounter(counterCommand), cancellationToken);
        await WriteJsonAsync(bucketsDirectory, StreamingCounter + "_metadata", CounterMetadata("Streaming counter"), cancellationToken);

        var failingCommand = Command("streaming-counter");
        failingCommand.Add("--failAfter=10");
        failingCommand.Add("--intervalMs=200");
        await WriteJsonAsync(bucketsDirectory, StreamingCounterFailing, ClassicCounter(failingCommand), cancellationToken);
        await WriteJsonAsync(bucketsDirectory, StreamingCounterFailing + "_metadata", CounterMetadata("Streaming counter (fails after 10 elements)"), cancellationToken);

        await WriteJsonAsync(bucketsDirectory, StreamingCounterFlex, FlexCounter(Transforms, "Streaming counter (flex)"), cancellationToken);
        await WriteJsonAsync(bucketsDirectory, StreamingCounterFlexV2, FlexCounter(TransformsV2, "Streaming counter v2 (flex)"), cancellationToken);

        var today = DateOnly.FromDateTime((timeProvider ?? TimeProvider.System).GetUtcNow().UtcDateTime);
        for (var offset = -(SeededInputDays - 2); offset <= 1; offset++)
        {
            await WriteWordsAsync(bucketsDirectory, today.AddDays(offset), cancellationToken);
        }

        // The example schedule (examples/manifests/daily-wordcount.yaml) covers these fixed days, so the demo
        // always has the same three slots whatever today is.
        foreach (var day in ExampleScheduleDays)
        {
            await WriteWordsAsync(bucketsDirectory, day, cancellationToken);
        }
    }

    /// <summary>The days of the example schedule's slots (its startDate through its endDate).</summary>
    public static IReadOnlyList<DateOnly> ExampleScheduleDays { get; } = [new(2026, 1, 1), new(2026, 1, 2), new(2026, 1, 3)];

    /// <summary>Writes the deterministic word-count input of <paramref name="day"/> (see <see cref="WordsInput"/>).</summary>
    public static Task WriteWordsAsync(string bucketsDirectory, DateOnly day, CancellationToken cancellationToken = default)
    {
        string[] vocabulary = ["stream", "batch", "window", "sluice", "river", "job", "template", "drain", "update", "slot"];
        var seed = day.DayNumber;
        var text = new StringBuilder();
        for (var line = 0; line < 20; line++)
        {
            for (var word = 0; word < 8; word++)
            {
                // A small linear congruential sequence keeps each day's text different but reproducible.
                seed = (int)((seed * 1103515245L + 12345) & 0x7fffffff);
                text.Append(word == 0 ? "" : " ").Append(vocabulary[seed % vocabulary.Length]);
            }

            text.Append('\n');
        }

        return WriteTextAsync(bucketsDirectory, WordsInput(day), text.ToString(), cancellationToken);
    }

    private static JsonObject ClassicCounter(JsonArray command) => new()
    {
        ["sluiceLocal"] = new JsonObject { ["command"] = command, ["transforms"] = Array(Transforms) },
    };

    private static JsonObject FlexCounter(string[] transforms, string name) => new()
    {
        ["image"] = "local/sluice-example-jobs:latest",
        ["sdkInfo"] = new JsonObject { ["language"] = "UNKNOWN", ["version"] = "sluice-example-jobs" },
        ["metadata"] = CounterMetadata(name),
        ["defaultEnvironment"] = new JsonObject { ["numWorkers"] = 1, ["maxWorkers"] = 3 },
        ["sluiceLocal"] = new JsonObject { ["command"] = Command("streaming-counter"), ["transforms"] = Array(transforms) },
    };

    private static JsonObject CounterMetadata(string name) => new()
    {
        ["name"] = name,
        ["description"] = "Streaming: emits numbered elements and per-window counts; drains without losing an element.",
        ["streaming"] = true,
        ["parameters"] = new JsonArray(
            Parameter("output", "Output directory", "gs:// directory for elements.txt, windows/ and the checkpoint.", optional: false, "^gs://[^/]+/.+$"),
            Parameter("intervalMs", "Interval", "Milliseconds between generated elements (default 200).", optional: true, "^[0-9]+$"),
            Parameter("windowSeconds", "Window", "Window length in seconds (default 5).", optional: true, "^[0-9]+$"),
            Parameter("inputDir", "Input directory", "gs:// directory whose dropped files are consumed line by line instead of generated elements.", optional: true, "^gs://[^/]+/.+$"),
            Parameter("failAfter", "Fail after", "Exit with an error after this many elements (0 = never).", optional: true, "^[0-9]+$")),
    };

    private static JsonObject Parameter(string name, string label, string help, bool optional, string regex) => new()
    {
        ["name"] = name,
        ["label"] = label,
        ["helpText"] = help,
        ["isOptional"] = optional,
        ["regexes"] = Array(regex),
    };

    private static JsonArray Command(string job) => Array("dotnet", "${SLUICE_HOME}/sluice-example-jobs.dll", job);

    private static JsonArray Array(params string[] items) => new(items.Select(item => (JsonNode?)JsonValue.Create(item)).ToArray());

    private static Task WriteJsonAsync(string bucketsDirectory, string gcsPath, JsonObject content, CancellationToken cancellationToken) =>
        WriteTextAsync(bucketsDirectory, gcsPath, content.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", cancellationToken);

    private static async Task WriteTextAsync(string bucketsDirectory, string gcsPath, string content, CancellationToken cancellationToken)
    {
        var file = BucketPaths.ToLocalPath(bucketsDirectory, gcsPath);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var temp = file + ".tmp-" + Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(temp, content, cancellationToken);
        File.Move(temp, file, overwrite: true);
    }
}
