using System.CommandLine;
using Sluice.Cli.Output;

namespace Sluice.Cli.Commands;

/// <summary><c>sluice token create|list|revoke</c> (needs an admin token).</summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var command = new Command("token", "Manage API tokens (admin)");

        var create = new Command("create", "Create a token; prints the secret once (stdout), the rest to stderr");
        var role = new Option<string>("--role") { Description = "viewer (read), operator (apply, rollback, pause, backfill) or admin (tokens)", Required = true };
        role.AcceptOnlyFromAmong("viewer", "operator", "admin");
        var name = new Option<string?>("--name") { Description = "What the token is for, e.g. ci-deployer" };
        create.Options.Add(role);
        create.Options.Add(name);
        create.SetApiAction(async (context, ct) =>
        {
            var token = await context.Client.CreateTokenAsync(context.ParseResult.GetValue(name), context.ParseResult.GetValue(role)!, ct);
            if (context.Json)
            {
                CliOutput.WriteJson(context.Out, token);
            }
            else
            {
                await context.Error.WriteLineAsync($"Created {token.Role} token {token.Id} ({token.Name}); it is shown only this once:");
                await context.Out.WriteLineAsync(token.Token);
            }

            return ExitCodes.Ok;
        });

        var list = new Command("list", "List tokens (secrets are never shown)");
        var all = new Option<bool>("--all") { Description = "Include revoked tokens" };
        list.Options.Add(all);
        list.SetApiAction(async (context, ct) =>
        {
            var tokens = await context.Client.ListTokensAsync(context.ParseResult.GetValue(all), ct);
            if (context.Json)
            {
                CliOutput.WriteJson(context.Out, tokens);
            }
            else
            {
                CliOutput.WriteTable(
                    context.Out,
                    ["id", "name", "role", "prefix", "created", "revoked"],
                    tokens.Select(t => new[] { t.Id, t.Name, t.Role, t.Prefix + "…", CliOutput.Time(t.CreatedAt), CliOutput.Time(t.RevokedAt) }));
            }

            return ExitCodes.Ok;
        });

        var revoke = new Command("revoke", "Revoke a token; it stops working at once");
        var id = new Argument<string>("ID") { Description = "Token id (see 'sluice token list')" };
        revoke.Arguments.Add(id);
        revoke.SetApiAction(async (context, ct) =>
        {
            var token = await context.Client.RevokeTokenAsync(context.ParseResult.GetValue(id)!, ct);
            if (context.Json)
            {
                CliOutput.WriteJson(context.Out, token);
            }
            else
            {
                await context.Out.WriteLineAsync($"Revoked token {token.Id} ({token.Name}).");
            }

            return ExitCodes.Ok;
        });

        command.Subcommands.Add(create);
        command.Subcommands.Add(list);
        command.Subcommands.Add(revoke);
        return command;
    }
}
