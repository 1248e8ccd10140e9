using System.CommandLine;

namespace Sluice.Cli.Client;

/// <summary>Where the CLI sends its calls and with which token, resolved from flags, environment and the local data dir.</summary>
public sealed record CliSettings(Uri Server, string? Token, OutputFormat Output, string ServerSource)
{
    public const string DefaultServer = "http://127.0.0.1:8080";

    /// <summary>The data directory of a local `sluice up` started in the current directory.</summary>
    public static string LocalDataDirectory => Path.Combine(Directory.GetCurrentDirectory(), ".sluice");

    /// <summary>
    /// Server: --server, SLUICE_SERVER, the address a local `sluice up` wrote to ./.sluice/server.url, else http://127.0.0.1:8080.
    /// Token: --token, SLUICE_TOKEN, else the admin token file ./.sluice/admin.token.
    /// </summary>
    public static CliSettings From(ParseResult parseResult)
    {
        var output = parseResult.GetValue(GlobalOptions.Output);
        string server;
        string source;
        if (parseResult.GetValue(GlobalOptions.Server) is { Length: > 0 } flag)
        {
            (server, source) = (flag, "--server");
        }
        else if (Environment.GetEnvironmentVariable("SLUICE_SERVER") is { Length: > 0 } env)
        {
            (server, source) = (env, "SLUICE_SERVER");
        }
        else if (ReadFirstLine(Path.Combine(LocalDataDirectory, "server.url")) is { Length: > 0 } local)
        {
            (server, source) = (local, "./.sluice/server.url");
        }
        else
        {
            (server, source) = (DefaultServer, "the default");
        }

        if (!Uri.TryCreate(server.Contains("://", StringComparison.Ordinal) ? server : "http://" + server, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliUsageException($"'{server}' (from {source}) is not a server address; use e.g. --server http://127.0.0.1:8080.");
        }

        var token = parseResult.GetValue(GlobalOptions.Token) is { Length: > 0 } t ? t
            : Environment.GetEnvironmentVariable("SLUICE_TOKEN") is { Length: > 0 } envToken ? envToken
            : ReadFirstLine(Path.Combine(LocalDataDirectory, "admin.token"));
        return new CliSettings(uri, token, output, source);
    }

    public SluiceApiClient CreateClient() => new(Server, Token);

    private static string? ReadFirstLine(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadLines(path).FirstOrDefault()?.Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>The command line was wrong in a way the parser cannot see (exit code 2).</summary>
public sealed class CliUsageException : Exception
{
    public CliUsageException()
    {
    }

    public CliUsageException(string message)
        : base(message)
    {
    }

    public CliUsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
