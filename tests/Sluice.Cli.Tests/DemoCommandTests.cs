namespace Sluice.Cli.Tests;

/// <summary>`sluice demo` is the README's first command: on a fresh data directory it must run every example end to end.</summary>
public sealed class DemoCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-demo-test-").FullName;

    [Fact]
    public async Task DemoRunsTheExamplesEndToEndAndEveryExpectationHolds()
    {
        var result = await SluiceProcess.RunAsync(
            _directory, null, TimeSpan.FromMinutes(6), "demo", "--data-dir", Path.Combine(_directory, "demo"), "--timeout-seconds", "150");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("5 of 5 expectations held", result.Output, StringComparison.Ordinal);
        Assert.Contains("rolls back to v2 by itself", result.Output, StringComparison.Ordinal);
        // A failed expectation is marked ✘; failure reasons of the failing v3 rollout (JOB_STATE_FAILED) are expected output.
        Assert.DoesNotContain("✘", result.Output, StringComparison.Ordinal);
        // The state stays behind so that `sluice up --data-dir` shows the result in the UI.
        Assert.True(File.Exists(Path.Combine(_directory, "demo", "sluice.db")), result.ToString());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A job process of the demo may still be closing its files; the temp directory is cleaned up later.
        }
    }
}
