using System.CommandLine;
using System.Globalization;
using Sluice.Cli.Output;
using Sluice.Server.Api;

namespace Sluice.Cli.Commands;

/// <summary><c>sluice get pipelines|rollouts|schedules|runs|events|jobs</c>: tables for people, JSON arrays for scripts.</summary>
internal static class GetCommand
{
    internal static readonly string[] Resources = ["pipelines", "rollouts", "schedules", "runs", "events", "jobs"];

    public static Command Create()
    {
        var command = new Command("get", "List resources: pipelines, rollouts, schedules, runs, events or jobs");
        var resource = new Argument<string>("RESOURCE") { Description = string.Join(", ", Resources) };
        resource.CustomParser = result => Normalize(result.Tokens.Single().Value) ?? FailParse(result);
        var dag = new Option<string?>("--dag") { Description = "runs: only the runs of this schedule (dagId)" };
        var pipeline = new Option<string?>("--pipeline") { Description = "rollouts, runs, jobs: only this pipeline" };
        var state = new Option<string?>("--state") { Description = "only this state (e.g. running, failed; events: rejected; jobs: active, terminated)" };
        var limit = new Option<int?>("--limit") { Description = "at most this many (default 50)" };
        command.Arguments.Add(resource);
        command.Options.Add(dag);
        command.Options.Add(pipeline);
        command.Options.Add(state);
        command.Options.Add(limit);

        command.SetApiAction(async (context, ct) =>
        {
            var p = context.ParseResult;
            var client = context.Client;
            var max = p.GetValue(limit);
            var now = CliContext.Now;
            switch (p.GetValue(resource))
            {
                case "pipelines":
                    Print(context, (await client.ListPipelinesAsync(max, ct)).Items,
                        ["name", "version", "rev", "state", "job id", "job state", "last rollout", "updated"],
                        x => [x.Name, x.Version, x.Revision?.ToString(CultureInfo.InvariantCulture), Kebab(x.State.ToString()), x.JobId, Short(x.JobState), x.LastRollout, CliOutput.Age(x.UpdatedAt, now)]);
                    break;
                case "rollouts":
                    Print(context, (await client.ListRolloutsAsync(p.GetValue(pipeline), p.GetValue(state), max, ct)).Items,
                        ["name", "pipeline", "kind", "strategy", "from", "to", "state", "run", "age", "reason"],
                        x => [x.Name, x.Pipeline, x.Kind, x.Strategy, x.FromVersion, x.ToVersion, x.State, x.RunId?.ToString(CultureInfo.InvariantCulture), CliOutput.Age(x.CreatedAt, now), Truncate(x.Reason)]);
                    break;
                case "schedules":
                    Print(context, (await client.ListSchedulesAsync(max, ct)).Items,
                        ["dag id", "schedule", "state", "next logical date", "running", "succeeded", "failed"],
                        x => [x.DagId, x.Schedule, x.State, CliOutput.Time(x.NextLogicalDate), Count(x, "running"), Count(x, "succeeded"), Count(x, "failed")]);
                    break;
                case "runs":
                    Print(context, (await client.ListRunsAsync(null, null, p.GetValue(state), p.GetValue(pipeline), p.GetValue(dag), max, ct)).Items,
                        ["id", "kind", "name", "state", "started", "duration", "reason"],
                        x => [x.Id.ToString(CultureInfo.InvariantCulture), x.Kind, x.Name, x.State, CliOutput.Time(x.StartedAt), CliOutput.Duration(Seconds(x.DurationSeconds)), Truncate(x.Reason)]);
                    break;
                case "events":
                    Print(context, (await client.ListEventsAsync(p.GetValue(state), null, null, null, max, ct)).Items,
                        ["id", "source", "bucket", "object", "generation", "state", "received", "reason"],
                        x => [x.Id.ToString(CultureInfo.InvariantCulture), x.Source, x.Bucket, x.Object, x.Generation.ToString(CultureInfo.InvariantCulture), x.State, CliOutput.Time(x.ReceivedAt), Truncate(x.Reason)]);
                    break;
                case "jobs":
                    Print(context, (await client.ListJobsAsync(p.GetValue(state), p.GetValue(pipeline), max, ct)).Items,
                        ["id", "name", "type", "state", "created", "pipeline", "run"],
                        x => [x.Id, x.Name, Short(x.Type), Short(x.State), CliOutput.Time(x.CreateTime), x.Pipeline, x.RunId?.ToString(CultureInfo.InvariantCulture)]);
                    break;
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Accepts singular and plural resource names.</summary>
    internal static string? Normalize(string value)
    {
        var lower = value.ToLowerInvariant();
        return Resources.FirstOrDefault(r => r == lower || r == lower + "s");
    }

    private static string FailParse(System.CommandLine.Parsing.ArgumentResult result)
    {
        result.AddError($"'{result.Tokens.Single().Value}' is not a resource; use one of {string.Join(", ", Resources)}.");
        return "";
    }

    private static void Print<T>(CliContext context, IReadOnlyList<T> items, IReadOnlyList<string> headers, Func<T, IReadOnlyList<string?>> row)
    {
        if (context.Json)
        {
            CliOutput.WriteJson(context.Out, items);
        }
        else
        {
            CliOutput.WriteTable(context.Out, headers, items.Select(row));
        }
    }

    internal static string? Short(string? dataflowEnum) =>
        dataflowEnum?.Replace("JOB_STATE_", "", StringComparison.Ordinal).Replace("JOB_TYPE_", "", StringComparison.Ordinal)
            .Replace("JOB_MESSAGE_", "", StringComparison.Ordinal).ToLowerInvariant();

    internal static string Kebab(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    internal static TimeSpan? Seconds(double? seconds) => seconds is { } s ? TimeSpan.FromSeconds(s) : null;

    internal static string? Truncate(string? text, int max = 60) =>
        text is null || text.Length <= max ? text : text[..(max - 1)] + "…";

    private static string Count(ScheduleResource schedule, string state) =>
        (schedule.Counts?.GetValueOrDefault(state) ?? 0).ToString(CultureInfo.InvariantCulture);
}
