using Sluice.Manifests.Binding;

namespace Sluice.Manifests;

/// <summary>Reads manifests from files and directories (recursively: *.yaml, *.yml, *.json, in name order).</summary>
public static class ManifestFiles
{
    /// <summary>The manifest files a list of files and directories stands for; missing paths are listed apart.</summary>
    public static (IReadOnlyList<string> Files, IReadOnlyList<string> Missing) Expand(IEnumerable<string> paths)
    {
        var files = new List<string>();
        var missing = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                files.AddRange(Directory
                    .EnumerateFiles(path, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
                    .Where(file => ManifestReader.Extensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal));
            }
            else if (File.Exists(path))
            {
                files.Add(path);
            }
            else
            {
                missing.Add(path);
            }
        }

        return (files.Distinct(StringComparer.Ordinal).ToList(), missing);
    }

    /// <summary>Reads every manifest under the given paths; problems include missing paths and conflicts between files.</summary>
    public static ManifestReadResult ReadAll(IEnumerable<string> paths)
    {
        var (files, missing) = Expand(paths);
        var results = new List<ManifestReadResult>();
        results.AddRange(missing.Select(path => ManifestReader.FileProblem(path, "no such file or directory", "check the path")));
        results.AddRange(files.Select(ManifestReader.ReadFile));
        var combined = ManifestReadResult.Combine(results);
        var (conflicts, rejected) = CrossChecks.Across(combined.Manifests);
        return conflicts.Count == 0
            ? combined
            : combined with
            {
                Manifests = [.. combined.Manifests.Where(manifest => !rejected.Contains(manifest))],
                Problems = [.. combined.Problems, .. conflicts],
            };
    }
}
