using System.CommandLine;
using System.Globalization;
using Sluice.Cli.Output;
using Sluice.Server.Api;

namespace Sluice.Cli.Commands;

/// <summary><c>sluice pause|unpause|unschedule DAG_ID</c>.</summary>
internal static class PauseCommand
{
    public static Command Create() => ScheduleControl.Create("pause", "Pause a schedule: no new slot runs start; running ones finish", (c, dag, ct) => c.Client.PauseAsync(dag, ct), "paused");
}

internal static class UnpauseCommand
{
    public static Command Create() => ScheduleControl.Create("unpause", "Unpause a schedule (with catch-up, missed slots run)", (c, dag, ct) => c.Client.UnpauseAsync(dag, ct), "unpaused");
}

internal static class UnscheduleCommand
{
    public static Command Create()
    {
        var cancelRunning = new Option<bool>("--cancel-running") { Description = "Also cancel the schedule's running slot runs" };
        var command = ScheduleControl.Create(
            "unschedule",
            "Remove a schedule: no new runs (like deleting its manifest from the bucket)",
            (c, dag, ct) => c.Client.UnscheduleAsync(dag, c.ParseResult.GetValue(cancelRunning), ct),
            "unscheduled");
        command.Options.Add(cancelRunning);
        return command;
    }
}

internal static class ScheduleControl
{
    public static Command Create(string name, string description, Func<CliContext, string, CancellationToken, Task<ScheduleResource>> action, string done)
    {
        var command = new Command(name, description);
        var dagId = new Argument<string>("DAG_ID") { Description = "The schedule's dagId" };
        command.Arguments.Add(dagId);
        command.SetApiAction(async (context, ct) =>
        {
            var schedule = await action(context, context.ParseResult.GetValue(dagId)!, ct);
            if (context.Json)
            {
                CliOutput.WriteJson(context.Out, schedule);
            }
            else
            {
                await context.Out.WriteLineAsync($"Schedule {schedule.DagId} {done} (state {schedule.State}).");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}

/// <summary><c>sluice backfill DAG_ID --from DATE --to DATE [--reprocess none|failed|all] [--dry-run]</c>.</summary>
internal static class BackfillCommand
{
    public static Command Create()
    {
        var command = new Command("backfill", "Run a schedule's past slots between two dates (both inclusive)");
        var dagId = new Argument<string>("DAG_ID") { Description = "The schedule's dagId" };
        var from = new Option<string>("--from") { Description = "First logical date, e.g. 2026-11-01", Required = true };
        var to = new Option<string>("--to") { Description = "Last logical date, e.g. 2026-11-03", Required = true };
        var reprocess = new Option<string>("--reprocess")
        {
            Description = "none: only slots without a run; failed: also re-run failed ones; all: re-run every slot",
            DefaultValueFactory = _ => "none",
        };
        reprocess.AcceptOnlyFromAmong("none", "failed", "all");
        var dryRun = new Option<bool>("--dry-run") { Description = "Show which slots would run; start nothing" };
        command.Arguments.Add(dagId);
        command.Options.Add(from);
        command.Options.Add(to);
        command.Options.Add(reprocess);
        command.Options.Add(dryRun);
        command.SetApiAction(async (context, ct) =>
        {
            var p = context.ParseResult;
            var response = await context.Client.BackfillAsync(
                p.GetValue(dagId)!,
                new BackfillRequest { From = p.GetValue(from)!, To = p.GetValue(to)!, Reprocess = p.GetValue(reprocess)!, DryRun = p.GetValue(dryRun) },
                ct);
            if (context.Json)
            {
                CliOutput.WriteJson(context.Out, response);
                return ExitCodes.Ok;
            }

            CliOutput.WriteTable(context.Out, ["logical date", "action", "run", "reason"],
                response.Slots.Select(s => new[] { CliOutput.Time(s.LogicalDate), s.Action, s.RunId?.ToString(CultureInfo.InvariantCulture), s.Reason }));
            var created = response.Slots.Count(s => s.Action is "create" or "rerun");
            await context.Out.WriteLineAsync(response.DryRun
                ? $"Dry run: {created} slot run(s) would start; nothing was started."
                : $"{created} slot run(s) started for {response.DagId}.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
