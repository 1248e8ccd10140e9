namespace Sluice.Cli.Tests;

/// <summary>A temporary directory of manifest files for the validate and render tests, and the repository's examples.</summary>
public sealed class ManifestTestFiles : IDisposable
{
    public ManifestTestFiles()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("sluice-manifests-").FullName;
    }

    public string Directory { get; }

    public static string Examples { get; } = Path.Combine(FindRoot(), "examples", "manifests");

    public string Write(string name, string text)
    {
        var path = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

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
