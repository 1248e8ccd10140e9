namespace Sluice.Manifests;

/// <summary>The manifests read from one or more files, and every problem found in them.</summary>
public sealed record ManifestReadResult
{
    public static readonly ManifestReadResult Empty = new();

    /// <summary>The documents that are valid, in file order. A document with any problem is left out.</summary>
    public IReadOnlyList<Manifest> Manifests { get; init; } = [];

    /// <summary>All problems, in file and line order.</summary>
    public IReadOnlyList<ManifestProblem> Problems { get; init; } = [];

    public bool IsValid => Problems.Count == 0;

    /// <summary>How many documents were found, valid or not.</summary>
    public int DocumentCount { get; init; }

    /// <summary>How many files were read.</summary>
    public int FileCount { get; init; }

    public static ManifestReadResult Combine(IEnumerable<ManifestReadResult> results)
    {
        var manifests = new List<Manifest>();
        var problems = new List<ManifestProblem>();
        int documents = 0, files = 0;
        foreach (var result in results)
        {
            manifests.AddRange(result.Manifests);
            problems.AddRange(result.Problems);
            documents += result.DocumentCount;
            files += result.FileCount;
        }

        return new ManifestReadResult { Manifests = manifests, Problems = problems, DocumentCount = documents, FileCount = files };
    }
}
