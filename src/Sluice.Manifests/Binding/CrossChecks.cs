namespace Sluice.Manifests.Binding;

/// <summary>Conflicts between documents: two manifests of one kind with one name, or two Schedules for one dag id.</summary>
internal static class CrossChecks
{
    /// <summary>Reports conflicts and returns the manifests without the conflicting later ones.</summary>
    public static List<Manifest> Check(BindContext context, IReadOnlyList<Manifest> manifests)
    {
        var (problems, rejected) = Across(manifests);
        context.Problems.AddRange(problems);
        return [.. manifests.Where(manifest => !rejected.Contains(manifest))];
    }

    public static (List<ManifestProblem> Problems, HashSet<Manifest> Rejected) Across(IReadOnlyList<Manifest> manifests)
    {
        var problems = new List<ManifestProblem>();
        var rejected = new HashSet<Manifest>(ReferenceEqualityComparer.Instance);
        var names = new Dictionary<(ManifestKind, string), Manifest>();
        var dagIds = new Dictionary<string, Manifest>(StringComparer.Ordinal);
        foreach (var manifest in manifests)
        {
            if (!names.TryAdd((manifest.Kind, manifest.Metadata.Name), manifest))
            {
                rejected.Add(manifest);
                problems.Add(Problem(manifest, "metadata.name", $"another {manifest.Kind} named '{manifest.Metadata.Name}' is at {Where(names[(manifest.Kind, manifest.Metadata.Name)])}", "give each manifest its own name"));
            }

            // A Schedule and an Unschedule of one dag id may sit side by side (register, later remove); two Schedules may not.
            var dagId = (manifest as ScheduleManifest)?.Spec.DagId;
            if (dagId is not null && !dagIds.TryAdd(dagId, manifest))
            {
                rejected.Add(manifest);
                problems.Add(Problem(manifest, "spec.dagId", $"the dag id '{dagId}' is also used by the {dagIds[dagId].Kind} at {Where(dagIds[dagId])}", "use one Schedule per dag id"));
            }
        }

        return (problems, rejected);
    }

    private static string Where(Manifest manifest) => $"{manifest.Source?.Path}:{manifest.Source?.Line}";

    private static ManifestProblem Problem(Manifest manifest, string field, string message, string hint) => new()
    {
        Path = manifest.Source?.Path ?? string.Empty,
        Line = manifest.Source?.Line ?? 1,
        Column = 1,
        Field = field,
        Message = message,
        Hint = hint,
    };
}
