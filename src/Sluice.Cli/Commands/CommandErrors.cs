namespace Sluice.Cli.Commands;

/// <summary>Keeps stack traces away from users: an unexpected failure becomes one line on stderr and exit code 1.</summary>
internal static class CommandErrors
{
    public static int Guard(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            error.WriteLine($"error: {ex.Message} ({ex.GetType().Name}); this is a bug in Sluice, please report it with the command you ran");
            return ExitCodes.Failed;
        }
    }
}
