using System.Diagnostics;
using System.Text;

namespace Sluice.Engine.Tests;

/// <summary>A child process running Sluice.Engine.CrashWorker: started, watched line by line, and killed with SIGKILL.</summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkerProcess(Process process)
    {
        this.process = process;
    }

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public static WorkerProcess Start(params string[] arguments)
    {
        var worker = Path.Combine(AppContext.BaseDirectory, "Sluice.Engine.CrashWorker.dll");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(worker);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_TieredPGO"] = "0";
        var process = new Process { StartInfo = info };
        var result = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => result.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => result.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    /// <summary>Waits for the "started" line; fails with the worker's output if it exits first.</summary>
    public async Task WaitUntilStartedAsync(TimeSpan timeout)
    {
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(started.Task, exited).WaitAsync(timeout);
        if (first == exited && !started.Task.IsCompleted)
        {
            throw new InvalidOperationException($"The crash worker exited with {process.ExitCode} before it started:\n{Output}");
        }
    }

    /// <summary>True when the worker exited within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public int ExitCode => process.ExitCode;

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        try
        {
            process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }

        await process.WaitForExitAsync();
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill();
        }

        process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }

        if (line == "started")
        {
            started.TrySetResult();
        }
    }
}
