using System.CommandLine;

namespace Sluice.Cli;

/// <summary>Options every command understands (PRODUCT.md, "CLI contract").</summary>
public static class GlobalOptions
{
    public static readonly Option<string?> Server = new("--server")
    {
        Description = "URL of the Sluice server (default: the local `sluice up`, http://127.0.0.1:8080, or SLUICE_SERVER)",
        Recursive = true,
    };

    public static readonly Option<string?> Token = new("--token")
    {
        Description = "API bearer token (default: SLUICE_TOKEN, or the token file in the data dir)",
        Recursive = true,
    };

    public static readonly Option<OutputFormat> Output = new("--output", "-o")
    {
        Description = "Output format: table for people, json for scripts",
        DefaultValueFactory = _ => OutputFormat.Table,
        Recursive = true,
    };

    public static void AddTo(RootCommand root)
    {
        root.Options.Add(Server);
        root.Options.Add(Token);
        root.Options.Add(Output);
    }
}

public enum OutputFormat
{
    Table,
    Json,
}
