using System.Globalization;
using System.Text;

namespace Sluice.ExampleJobs;

/// <summary>Batch: counts the words of the input file(s) and writes <c>word count</c> lines to the output file.</summary>
internal static class WordCount
{
    public static async Task<int> RunAsync(JobArguments arguments)
    {
        var input = arguments.Required("inputFile");
        var output = arguments.Required("output");
        var inputFiles = Expand(input);
        if (inputFiles.Count == 0)
        {
            await Console.Error.WriteLineAsync($"ERROR: input {input} does not exist (looked for {LocalPaths.Resolve(input)}); upload the input first or fix --inputFile.");
            return 1;
        }

        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        long lines = 0;
        foreach (var file in inputFiles)
        {
            foreach (var line in await File.ReadAllLinesAsync(file))
            {
                lines++;
                foreach (var word in line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
                {
                    var normalized = new string(word.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant();
                    if (normalized.Length > 0)
                    {
                        counts[normalized] = counts.GetValueOrDefault(normalized) + 1;
                    }
                }
            }

            Console.WriteLine($"INFO: read {file}");
        }

        var text = new StringBuilder();
        foreach (var (word, count) in counts.OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key, StringComparer.Ordinal))
        {
            text.Append(word).Append(' ').Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        // Like Beam's text sink, an output ending in '/' is a directory that receives the shard file.
        var outputFile = output.EndsWith('/') ? output + "counts-00000-of-00001.txt" : output;
        await LocalPaths.WriteAtomicallyAsync(LocalPaths.Resolve(outputFile), text.ToString(), CancellationToken.None);
        var words = counts.Values.Sum();
        Console.WriteLine(FormattableString.Invariant($"@@metric counter ElementCount {lines} step=ReadLines"));
        Console.WriteLine(FormattableString.Invariant($"@@metric counter Words {words}"));
        Console.WriteLine(FormattableString.Invariant($"INFO: counted {words} words ({counts.Count} distinct) in {lines} lines; wrote {outputFile}"));
        return 0;
    }

    private static List<string> Expand(string input)
    {
        var local = LocalPaths.Resolve(input);
        var name = Path.GetFileName(local);
        if (!name.Contains('*', StringComparison.Ordinal))
        {
            return File.Exists(local) ? [local] : [];
        }

        var directory = Path.GetDirectoryName(local)!;
        return Directory.Exists(directory)
            ? Directory.GetFiles(directory, name).Order(StringComparer.Ordinal).ToList()
            : [];
    }
}
