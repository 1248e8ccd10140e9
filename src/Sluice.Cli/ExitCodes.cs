namespace Sluice.Cli;

/// <summary>Exit codes scripts and CI rely on.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The thing asked for failed: an invalid manifest, a failed rollout, an object not found.</summary>
    public const int Failed = 1;

    /// <summary>The command line itself was wrong (unknown option, missing argument).</summary>
    public const int Usage = 2;

    /// <summary>The server could not be reached or refused the credentials.</summary>
    public const int Unavailable = 3;
}
