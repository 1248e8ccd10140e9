namespace Sluice.Manifests.Tests;

internal static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Examples => Path.Combine(RepositoryRoot, "examples", "manifests");

    public static string Schema => Path.Combine(RepositoryRoot, "schemas", "sluice-v1.schema.json");

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Sluice.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Sluice.slnx not found above " + AppContext.BaseDirectory);
    }
}
