using System.Diagnostics;
using System.Text;

namespace Sluice.Cli.Tests;

/// <summary>Runs the real `sluice` executable as a child process.</summary>
public static class SluiceProcess
{
    /// <summary>The sluice.dll built next to the tests (the CLI project is referenced, so it is copied here).</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "sluice.dll");

    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
    }

    public static ProcessStartInfo StartInfo(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // The tests decide the server and token; the developer's own settings must not leak in.
        foreach (var name in new[] { "SLUICE_SERVER", "SLUICE_TOKEN", "SLUICE_CONFIG", "SLUICE_PORT", "SLUICE_DATA_DIR", "SLUICE_STORE" })
        {
            info.Environment.Remove(name);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        return info;
    }

    public static async Task<Result> RunAsync(string workingDirectory, params string[] args) =>
        await RunAsync(workingDirectory, null, TimeSpan.FromSeconds(90), args);

    public static async Task<Result> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, params string[] args)
    {
        using var process = Process.Start(StartInfo(workingDirectory, environment, args))!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"sluice {string.Join(' ', args)} did not finish within {timeout}; stdout so far: {await output}");
        }

        return new Result(process.ExitCode, await output, await error);
    }
}

/// <summary>A long-running `sluice` child process (e.g. `up`) whose output is collected as it comes.</summary>
public sealed class SluiceChild : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly Lock _lock = new();

    public SluiceChild(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        _process = Process.Start(SluiceProcess.StartInfo(workingDirectory, environment, args))!;
        _process.StandardInput.Close();
        _process.OutputDataReceived += (_, e) => { lock (_lock) { _output.AppendLine(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { lock (_lock) { _error.AppendLine(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output { get { lock (_lock) { return _output.ToString(); } } }

    public string Error { get { lock (_lock) { return _error.ToString(); } } }

    public void Signal(System.Runtime.InteropServices.PosixSignal signal)
    {
        var number = signal switch
        {
            System.Runtime.InteropServices.PosixSignal.SIGTERM => 15,
            System.Runtime.InteropServices.PosixSignal.SIGINT => 2,
            _ => throw new ArgumentOutOfRangeException(nameof(signal)),
        };
        using var kill = Process.Start("kill", $"-{number} {_process.Id}");
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}

/// <summary>Polls a condition until it holds or a generous deadline passes.</summary>
public static class Eventually
{
    public static async Task<T> GetAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                if (await probe() is { } value)
                {
                    return value;
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                last = e;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Timed out after {timeout} waiting for {what}. {last?.Message}");
    }
}
