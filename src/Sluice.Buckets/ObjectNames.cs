using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Sluice.Buckets;

/// <summary>Rules for object names, and which names a local bucket treats as not-yet-objects.</summary>
public static class ObjectNames
{
    /// <summary>
    /// Names that are never objects of a local bucket: any path segment that starts with '.' (hidden files and
    /// directories, and the temp files of <see cref="IBucketWriter"/>), and names ending in <c>.tmp</c>,
    /// <c>.partial</c>, <c>.crdownload</c> or <c>~</c>, which copy tools and editors use while a file is incomplete.
    /// </summary>
    public static bool IsIgnored(string name)
    {
        if (name.EndsWith(".tmp", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".partial", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".crdownload", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith('~'))
        {
            return true;
        }
        return name.StartsWith('.') || name.Contains("/.", StringComparison.Ordinal);
    }

    /// <summary>Checks an object name for reading and writing: Cloud Storage's rules, plus what a directory tree can hold.</summary>
    public static bool IsValid(string? name, [NotNullWhen(false)] out string? error)
    {
        if (string.IsNullOrEmpty(name))
        {
            error = "the object name is empty; give a path relative to the bucket such as rollouts/clickstream.yaml";
            return false;
        }
        if (Encoding.UTF8.GetByteCount(name) > 1024)
        {
            error = $"the object name '{Shorten(name)}' is longer than 1024 bytes; use a shorter name";
            return false;
        }
        if (name.StartsWith('/') || name.EndsWith('/'))
        {
            error = $"the object name '{name}' starts or ends with '/'; give a path relative to the bucket such as rollouts/clickstream.yaml";
            return false;
        }
        if (name.Any(c => c is '\r' or '\n' or '\0' or '\\'))
        {
            error = $"the object name '{Shorten(name)}' contains a line break, NUL or backslash; use '/' between path segments and printable characters only";
            return false;
        }
        foreach (var segment in name.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or "..")
            {
                error = $"the object name '{name}' has an empty, '.' or '..' path segment; give a plain relative path";
                return false;
            }
        }
        error = null;
        return true;
    }

    /// <summary>A prefix is an object name, or an object name followed by '/'.</summary>
    public static bool IsValidPrefix(string prefix, [NotNullWhen(false)] out string? error) =>
        IsValid(prefix.TrimEnd('/'), out error);

    /// <summary>Throws <see cref="ArgumentException"/> with a clear sentence when the name is not valid.</summary>
    public static void Validate(string name)
    {
        if (!IsValid(name, out var error))
        {
            throw new ArgumentException(char.ToUpperInvariant(error[0]) + error[1..] + ".", nameof(name));
        }
    }

    private static string Shorten(string name) => name.Length <= 60 ? name : name[..57] + "...";
}
