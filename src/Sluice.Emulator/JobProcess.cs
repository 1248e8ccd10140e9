using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Sluice.Emulator;

/// <summary>Starting, signalling and probing the local processes that stand in for Dataflow jobs.</summary>
internal static partial class JobProcess
{
    private const int SigTerm = 15;

    private static readonly Lazy<string> DotnetHost = new(ResolveDotnetHost);

    /// <summary>Expands <c>${SLUICE_HOME}</c> and <c>${TEMPLATE_DIR}</c>; <c>dotnet</c> becomes the host running the emulator.</summary>
    public static List<string> ExpandCommand(IReadOnlyList<string> command, string sluiceHome, string templateDirectory)
    {
        var expanded = command
            .Select(part => part.Replace("${SLUICE_HOME}", sluiceHome, StringComparison.Ordinal)
                .Replace("${TEMPLATE_DIR}", templateDirectory, StringComparison.Ordinal))
            .ToList();
        if (expanded[0] == "dotnet")
        {
            expanded[0] = DotnetHost.Value;
        }

        return expanded;
    }

    public static Process Start(IReadOnlyList<string> commandLine, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        var startInfo = new ProcessStartInfo(commandLine[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in commandLine.Skip(1))
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        Directory.CreateDirectory(workingDirectory);
        var process = new Process { StartInfo = startInfo };
        process.Start();
        return process;
    }

    /// <summary>SIGTERM: a streaming job finishes its in-flight work and exits (drain, update, emulator shutdown).</summary>
    public static void Terminate(Process process)
    {
        if (OperatingSystem.IsWindows())
        {
            // Windows has no SIGTERM; the closest honest thing is to stop the process.
            Kill(process);
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                _ = SendSignal(process.Id, SigTerm);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>Kills the process and its children (cancel).</summary>
    public static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Exited between the check and the kill.
        }
    }

    /// <summary>The process with this id if it is still the one the emulator started (same start time), else null.</summary>
    public static Process? FindRunning(int processId, DateTimeOffset startTime)
    {
        try
        {
            var process = Process.GetProcessById(processId);
            var actualStart = new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
            if (Math.Abs((actualStart - startTime).TotalSeconds) < 2)
            {
                return process;
            }

            process.Dispose();
            return null;
        }
        catch (ArgumentException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string ResolveDotnetHost()
    {
        var hostPath = System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath))
        {
            return hostPath;
        }

        var processPath = System.Environment.ProcessPath;
        if (processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet")
        {
            return processPath;
        }

        var executable = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        var root = System.Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, executable)))
        {
            return Path.Combine(root, executable);
        }

        // The shared runtime lives in <root>/shared/Microsoft.NETCore.App/<version>/.
        var fromRuntime = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", executable));
        return File.Exists(fromRuntime) ? fromRuntime : "dotnet";
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
