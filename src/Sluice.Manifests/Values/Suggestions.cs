namespace Sluice.Manifests.Values;

/// <summary>"Did you mean …?" for misspelt field names and values.</summary>
public static class Suggestions
{
    /// <summary>The candidate closest to <paramref name="input"/>, if it is close enough to be a likely typo.</summary>
    public static string? Closest(string input, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            if (string.Equals(candidate, input, StringComparison.OrdinalIgnoreCase))
            {
                return candidate;
            }

            var distance = Distance(input.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = candidate;
            }
        }

        if (best is null)
        {
            return null;
        }

        // "private" → "WORKER_IP_PRIVATE": a word the user remembered from a longer name.
        if (input.Length >= 3)
        {
            var containing = candidates.Where(candidate => candidate.Contains(input, StringComparison.OrdinalIgnoreCase)).Take(2).ToList();
            if (containing.Count == 1)
            {
                return containing[0];
            }
        }

        // Close enough: a third of the longer word, at least 2 edits; or one is a prefix of the other.
        var allowed = Math.Max(2, Math.Max(input.Length, best.Length) / 3);
        var prefix = input.Length >= 3 && (best.StartsWith(input, StringComparison.OrdinalIgnoreCase) || input.StartsWith(best, StringComparison.OrdinalIgnoreCase));
        return bestDistance <= allowed || prefix ? best : null;
    }

    public static string? DidYouMean(string input, IEnumerable<string> candidates)
    {
        var closest = Closest(input, candidates);
        return closest is null ? null : $"did you mean '{closest}'?";
    }

    /// <summary>Optimal string alignment distance (Levenshtein plus transpositions).</summary>
    public static int Distance(string a, string b)
    {
        if (a.Length > 256 || b.Length > 256)
        {
            return Math.Max(a.Length, b.Length);
        }

        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
