using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Sluice.Cli.Client;
using Sluice.Cli.Output;
using Sluice.Server.Api;

namespace Sluice.Cli.Commands;

/// <summary><c>sluice describe pipeline|rollout|schedule|run|job NAME</c>: one object in detail, with steps, timings and reasons.</summary>
internal static class DescribeCommand
{
    private static readonly string[] Kinds = ["pipeline", "rollout", "schedule", "run", "job", "event"];

    public static Command Create()
    {
        var command = new Command("describe", "Show one pipeline, rollout, schedule, run, job or event in detail");
        var kind = new Argument<string>("KIND") { Description = string.Join(", ", Kinds) };
        kind.CustomParser = result =>
        {
            var value = result.Tokens.Single().Value.ToLowerInvariant().TrimEnd('s');
            if (!Kinds.Contains(value))
            {
                result.AddError($"'{result.Tokens.Single().Value}' is not something to describe; use one of {string.Join(", ", Kinds)}.");
            }

            return value;
        };
        var name = new Argument<string>("NAME") { Description = "pipeline name, rollout name, dagId, run id, job id or event id" };
        command.Arguments.Add(kind);
        command.Arguments.Add(name);

        command.SetApiAction(async (context, ct) =>
        {
            var id = context.ParseResult.GetValue(name)!;
            var client = context.Client;
            switch (context.ParseResult.GetValue(kind))
            {
                case "pipeline":
                    Show(context, await client.GetPipelineAsync(id, ct), WritePipeline);
                    break;
                case "rollout":
                    Show(context, await client.GetRolloutAsync(id, ct), WriteRollout);
                    break;
                case "schedule":
                    Show(context, await client.GetScheduleAsync(id, null, ct), WriteSchedule);
                    break;
                case "run":
                    Show(context, await client.GetRunAsync(ParseId(id, "run"), ct), WriteRun);
                    break;
                case "job":
                    Show(context, await client.GetJobAsync(id, ct), WriteJob);
                    break;
                case "event":
                    Show(context, await client.GetEventAsync(ParseId(id, "event"), ct), WriteEvent);
                    break;
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static long ParseId(string text, string what) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new CliUsageException($"'{text}' is not a {what} id; {what} ids are numbers (see 'sluice get {what}s').");

    private static void Show<T>(CliContext context, T value, Action<TextWriter, T> write)
    {
        if (context.Json)
        {
            CliOutput.WriteJson(context.Out, value);
        }
        else
        {
            write(context.Out, value);
        }
    }

    private static void WritePipeline(TextWriter output, PipelineResource p)
    {
        CliOutput.WriteFacts(output,
        [
            ("Name", p.Name), ("State", GetCommand.Kebab(p.State.ToString())), ("Version", p.Version),
            ("Revision", p.Revision?.ToString(CultureInfo.InvariantCulture)), ("Job", Join(p.JobName, p.JobId)),
            ("Job state", GetCommand.Short(p.JobState)), ("Project", p.Project), ("Region", p.Region),
            ("Last rollout", Join(p.LastRollout, p.LastRolloutState)), ("Updated", CliOutput.Time(p.UpdatedAt)),
        ]);
        if (p.Revisions is { Count: > 0 } revisions)
        {
            output.WriteLine();
            output.WriteLine("Revisions:");
            CliOutput.WriteTable(output, ["rev", "version", "state", "rollout", "job id", "deployed"],
                revisions.Select(r => new[] { r.Revision.ToString(CultureInfo.InvariantCulture), r.Version, r.State, r.Rollout, r.JobId, CliOutput.Time(r.DeployedAt) }));
        }

        if (p.Rollouts is { Count: > 0 } rollouts)
        {
            output.WriteLine();
            output.WriteLine("Rollouts:");
            CliOutput.WriteTable(output, ["name", "kind", "from", "to", "state", "created", "reason"],
                rollouts.Select(r => new[] { r.Name, r.Kind, r.FromVersion, r.ToVersion, r.State, CliOutput.Time(r.CreatedAt), GetCommand.Truncate(r.Reason) }));
        }
    }

    internal static void WriteRollout(TextWriter output, RolloutResource r)
    {
        CliOutput.WriteFacts(output,
        [
            ("Name", r.Name), ("Pipeline", r.Pipeline), ("Kind", r.Kind), ("Strategy", r.Strategy),
            ("From", r.FromVersion ?? "(first deploy)"), ("To", r.ToVersion), ("State", r.State), ("Reason", r.Reason),
            ("Run", r.RunId?.ToString(CultureInfo.InvariantCulture)), ("Job", Join(r.JobName, r.JobId)), ("Previous job", r.PreviousJobId),
            ("Rollback of", r.RollbackOf), ("Rolled back by", r.RolledBackBy), ("Source", r.Source),
            ("Created", CliOutput.Time(r.CreatedAt)), ("Started", CliOutput.Time(r.StartedAt)), ("Finished", CliOutput.Time(r.FinishedAt)),
        ]);
        WriteSteps(output, r.Steps);
    }

    private static void WriteSchedule(TextWriter output, ScheduleResource s)
    {
        CliOutput.WriteFacts(output,
        [
            ("DAG id", s.DagId), ("Name", s.Name), ("State", s.State), ("Schedule", s.Schedule), ("Time zone", s.Timezone),
            ("Start date", s.StartDate), ("End date", s.EndDate), ("Catch-up", s.Catchup ? "yes" : "no"),
            ("Max active runs", s.MaxActiveRuns.ToString(CultureInfo.InvariantCulture)), ("Next logical date", CliOutput.Time(s.NextLogicalDate)),
            ("Next due", CliOutput.Time(s.NextDueAt)), ("Revision", s.Revision.ToString(CultureInfo.InvariantCulture)), ("Source", s.Source),
            ("Runs", s.Counts is null ? null : string.Join(", ", s.Counts.Where(c => c.Value > 0).Select(c => $"{c.Value} {c.Key}"))),
        ]);
        if (s.Slots is { Count: > 0 } slots)
        {
            output.WriteLine();
            output.WriteLine("Slots:");
            CliOutput.WriteTable(output, ["logical date", "state", "run", "tries", "job id", "started", "finished", "reason"],
                slots.Select(x => new[]
                {
                    CliOutput.Time(x.LogicalDate), x.State, x.RunId?.ToString(CultureInfo.InvariantCulture), x.Tries.ToString(CultureInfo.InvariantCulture),
                    x.JobId, CliOutput.Time(x.StartedAt), CliOutput.Time(x.FinishedAt), GetCommand.Truncate(x.Reason),
                }));
        }
    }

    internal static void WriteRun(TextWriter output, RunResource r)
    {
        CliOutput.WriteFacts(output,
        [
            ("Id", r.Id.ToString(CultureInfo.InvariantCulture)), ("Kind", r.Kind), ("Name", r.Name), ("State", r.State), ("Reason", r.Reason),
            ("Labels", r.Labels is null ? null : string.Join(", ", r.Labels.Select(l => $"{l.Key}={l.Value}"))),
            ("Parent run", r.ParentRunId?.ToString(CultureInfo.InvariantCulture)),
            ("Created", CliOutput.Time(r.CreatedAt)), ("Started", CliOutput.Time(r.StartedAt)), ("Finished", CliOutput.Time(r.FinishedAt)),
            ("Duration", CliOutput.Duration(GetCommand.Seconds(r.DurationSeconds))),
        ]);
        WriteSteps(output, r.Steps);
    }

    private static void WriteJob(TextWriter output, JobResource j)
    {
        CliOutput.WriteFacts(output,
        [
            ("Id", j.Id), ("Name", j.Name), ("Type", GetCommand.Short(j.Type)), ("State", GetCommand.Short(j.State)),
            ("Created", CliOutput.Time(j.CreateTime)), ("State since", CliOutput.Time(j.CurrentStateTime)),
            ("Project", j.Project), ("Region", j.Region), ("Pipeline", j.Pipeline), ("Run", j.RunId?.ToString(CultureInfo.InvariantCulture)),
            ("Labels", j.Labels is null ? null : string.Join(", ", j.Labels.Select(l => $"{l.Key}={l.Value}"))),
        ]);
        if (j.Metrics is { Count: > 0 } metrics)
        {
            output.WriteLine();
            output.WriteLine("Metrics:");
            CliOutput.WriteTable(output, ["name", "value", "updated"],
                metrics.Select(m => new[] { m.Name, m.Scalar?.ToString(CultureInfo.InvariantCulture), CliOutput.Time(m.UpdateTime) }));
        }

        if (j.Messages is { Count: > 0 } messages)
        {
            output.WriteLine();
            output.WriteLine("Messages:");
            CliOutput.WriteTable(output, ["time", "importance", "text"],
                messages.Select(m => new[] { CliOutput.Time(m.Time), GetCommand.Short(m.Importance), m.Text }));
        }
    }

    private static void WriteEvent(TextWriter output, EventResource e)
    {
        CliOutput.WriteFacts(output,
        [
            ("Id", e.Id.ToString(CultureInfo.InvariantCulture)), ("Source", e.Source), ("Object", $"{e.Bucket}/{e.Object}"),
            ("Generation", e.Generation.ToString(CultureInfo.InvariantCulture)), ("Kind", e.Kind), ("State", e.State), ("Reason", e.Reason),
            ("Manifests", e.Manifests is null ? null : string.Join(", ", e.Manifests.Select(m => $"{m.Kind}/{m.Name}"))),
            ("Runs", e.RunIds is null ? null : string.Join(", ", e.RunIds)),
            ("Received", CliOutput.Time(e.ReceivedAt)), ("Written", CliOutput.Time(e.ObjectUpdatedAt)),
        ]);
        if (e.Problems is { Count: > 0 } problems)
        {
            output.WriteLine();
            output.WriteLine("Problems:");
            foreach (var problem in problems)
            {
                output.WriteLine(problem.ToString());
            }
        }
    }

    private static void WriteSteps(TextWriter output, IReadOnlyList<StepResource>? steps)
    {
        if (steps is not { Count: > 0 })
        {
            return;
        }

        output.WriteLine();
        output.WriteLine("Steps:");
        CliOutput.WriteTable(output, ["step", "kind", "state", "attempt", "started", "duration", "reason / output"],
            steps.Select(s => new[]
            {
                s.Name, s.Kind, s.State, s.Attempt.ToString(CultureInfo.InvariantCulture), CliOutput.Time(s.StartedAt),
                CliOutput.Duration(GetCommand.Seconds(s.DurationSeconds)),
                s.Reason ?? (s.Output is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } o ? GetCommand.Truncate(o.GetRawText(), 80) : null),
            }));
    }

    private static string? Join(string? a, string? b) =>
        a is null ? b : b is null ? a : $"{a} ({b})";
}
