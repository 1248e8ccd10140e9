using System.Globalization;

namespace Sluice.ExampleJobs;

/// <summary>Pipeline options as the emulator passes them: <c>--name=value</c>.</summary>
internal sealed class JobArguments
{
    private readonly Dictionary<string, string> _values;

    private JobArguments(Dictionary<string, string> values) => _values = values;

    public static JobArguments Parse(IEnumerable<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var arg in args)
        {
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (!arg.StartsWith("--", StringComparison.Ordinal) || equals < 3)
            {
                throw new JobArgumentException($"argument '{arg}' is not of the form --name=value.");
            }

            values[arg[2..equals]] = arg[(equals + 1)..];
        }

        return new JobArguments(values);
    }

    public string Required(string name) =>
        _values.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new JobArgumentException($"--{name} is required.");

    public string? Optional(string name) => _values.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    public int Int(string name, int fallback)
    {
        var text = Optional(name);
        if (text is null)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : throw new JobArgumentException($"--{name}={text} is not a non-negative whole number.");
    }
}

internal sealed class JobArgumentException : Exception
{
    public JobArgumentException(string message)
        : base(message)
    {
    }

    public JobArgumentException()
    {
    }

    public JobArgumentException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>gs:// paths of the local buckets: <c>gs://BUCKET/PATH</c> is <c>$SLUICE_BUCKETS_DIR/BUCKET/PATH</c>.</summary>
internal static class LocalPaths
{
    public static string Resolve(string path)
    {
        if (!path.StartsWith("gs://", StringComparison.Ordinal))
        {
            return Path.GetFullPath(path);
        }

        var buckets = Environment.GetEnvironmentVariable("SLUICE_BUCKETS_DIR");
        if (string.IsNullOrEmpty(buckets))
        {
            throw new JobArgumentException(
                $"{path} is a Cloud Storage path, but SLUICE_BUCKETS_DIR is not set; run the job through the Sluice emulator, or pass a local path.");
        }

        var relative = path["gs://".Length..];
        if (relative.Split('/').Any(segment => segment is ".." or "."))
        {
            throw new JobArgumentException($"{path} contains '.' or '..' segments.");
        }

        return Path.GetFullPath(Path.Combine(buckets, relative));
    }

    /// <summary>Writes by temp file and rename, so readers never see half a file.</summary>
    public static async Task WriteAtomicallyAsync(string file, string content, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var temp = file + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(temp, content, cancellationToken);
        File.Move(temp, file, overwrite: true);
    }
}
