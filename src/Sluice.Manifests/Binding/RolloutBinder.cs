using Sluice.Manifests.Parsing;
using Sluice.Manifests.Templating;
using Sluice.Manifests.Values;

namespace Sluice.Manifests.Binding;

internal static class RolloutBinder
{
    private static readonly Dictionary<string, RolloutStrategy> Strategies = new(StringComparer.Ordinal)
    {
        ["restart"] = RolloutStrategy.Restart,
        ["rolling"] = RolloutStrategy.Rolling,
        ["update"] = RolloutStrategy.Update,
    };

    private static readonly Dictionary<string, StopMode> StopModes = new(StringComparer.Ordinal)
    {
        ["drain"] = StopMode.Drain,
        ["cancel"] = StopMode.Cancel,
    };

    private static readonly Dictionary<string, RollbackMode> RollbackModes = new(StringComparer.Ordinal)
    {
        ["auto"] = RollbackMode.Auto,
        ["manual"] = RollbackMode.Manual,
    };

    private static readonly Dictionary<string, UpdateRefusedAction> UpdateRefusedActions = new(StringComparer.Ordinal)
    {
        ["fail"] = UpdateRefusedAction.Fail,
        ["restart"] = UpdateRefusedAction.Restart,
    };

    private static readonly Dictionary<string, MismatchAction> MismatchActions = new(StringComparer.Ordinal)
    {
        ["stop"] = MismatchAction.Stop,
        ["proceed"] = MismatchAction.Proceed,
    };

    private static readonly Dictionary<string, ExpectedJobState> States = new(StringComparer.Ordinal)
    {
        ["RUNNING"] = ExpectedJobState.Running,
        ["DONE"] = ExpectedJobState.Done,
    };

    public static RolloutManifest? Bind(BindContext context, Node specNode, ManifestMetadata? metadata, ManifestSource source)
    {
        var reader = ObjectReader.Open(context, specNode, "spec", ManifestFields.RolloutSpec);
        if (reader is null)
        {
            return null;
        }

        var before = context.Problems.Count;
        var pipeline = reader.Pattern("pipeline", Patterns.PipelineName,
            "pipeline names are 1 to 63 lowercase letters, digits or '-', starting with a letter and not ending with '-'",
            required: true, example: "clickstream");
        var project = ManifestBinder.ReadProject(reader);
        var region = ManifestBinder.ReadRegion(reader);
        var strategy = reader.Enum("strategy", Strategies) ?? RolloutStrategy.Restart;
        var fromRead = ReadVersion(context, reader, "from", strategy, required: false);
        var toRead = ReadVersion(context, reader, "to", strategy, required: true);
        var stop = ReadStop(context, reader);
        var validation = ReadValidation(context, reader);
        var rollback = reader.Enum("rollback", RollbackModes) ?? RollbackMode.Manual;
        var onUpdateRefused = reader.Enum("onUpdateRefused", UpdateRefusedActions);
        var onMismatch = reader.Enum("onMismatch", MismatchActions) ?? MismatchAction.Stop;
        reader.Finish();

        if (strategy == RolloutStrategy.Update && !reader.Has("from") && reader.Has("to"))
        {
            reader.Error("strategy", "strategy update changes a running job in place, so 'from' must describe the job running now",
                "add a 'from' version, or use strategy: restart for a first deploy");
        }

        if (onUpdateRefused is not null && strategy != RolloutStrategy.Update)
        {
            reader.Error("onUpdateRefused", "applies only to strategy update", "remove it, or set strategy: update");
        }

        if (rollback == RollbackMode.Auto && !reader.Has("from") && reader.Has("to"))
        {
            reader.Error("rollback", "rollback: auto rolls back to the 'from' version, and this rollout has none", "add a 'from' version, or use rollback: manual");
        }

        // Default job names: PIPELINE-VERSION; an in-place update keeps the running job's name.
        VersionSpec? from = null, to = null;
        if (pipeline is not null && fromRead is not null)
        {
            from = WithJobName(reader, "from", fromRead, fromRead.JobName ?? DefaultJobName(pipeline, fromRead.Version));
        }

        if (pipeline is not null && toRead is not null)
        {
            var defaultName = strategy == RolloutStrategy.Update && from is not null ? from.JobName : DefaultJobName(pipeline, toRead.Version);
            to = WithJobName(reader, "to", toRead, toRead.JobName ?? defaultName);
        }

        if (from is not null && to is not null)
        {
            if (strategy == RolloutStrategy.Update && from.JobName != to.JobName)
            {
                reader.Error("to", $"strategy update keeps the job name, but to.jobName is '{to.JobName}' and from.jobName is '{from.JobName}'",
                    "remove to.jobName (it defaults to from.jobName), or use strategy: rolling to run under a new name");
            }

            if (strategy == RolloutStrategy.Rolling && from.JobName == to.JobName)
            {
                reader.Error("to", $"strategy rolling runs both jobs side by side, so they need different names, but both are '{to.JobName}'",
                    "give 'to' another jobName, or different versions");
            }
        }

        if (context.Problems.Count != before || metadata is null || pipeline is null || to is null || stop is null || validation is null)
        {
            return null;
        }

        return new RolloutManifest
        {
            Metadata = metadata,
            Source = source,
            Spec = new RolloutSpec
            {
                Pipeline = pipeline,
                Project = project,
                Region = region,
                Strategy = strategy,
                From = from,
                To = to,
                Stop = stop,
                Validation = validation,
                Rollback = rollback,
                OnUpdateRefused = onUpdateRefused ?? UpdateRefusedAction.Fail,
                OnMismatch = onMismatch,
            },
        };
    }

    public static string DefaultJobName(string pipeline, string version) => Patterns.ToJobNameFragment($"{pipeline}-{version}");

    private static VersionSpec? WithJobName(ObjectReader reader, string field, PartialVersion version, string jobName)
    {
        if (!Patterns.IsJobName(jobName))
        {
            reader.Error(field, $"the job name '{jobName}' derived from pipeline and version is not a valid Dataflow job name", $"set {field}.jobName");
            return null;
        }

        return new VersionSpec
        {
            Version = version.Version,
            JobName = jobName,
            Template = version.Template,
            Environment = version.Environment,
            Parameters = version.Parameters,
            TransformNameMapping = version.TransformNameMapping,
        };
    }

    private sealed record PartialVersion(
        string Version,
        string? JobName,
        TemplateRef Template,
        RuntimeEnvironment Environment,
        IReadOnlyDictionary<string, string> Parameters,
        IReadOnlyDictionary<string, string> TransformNameMapping);

    private static PartialVersion? ReadVersion(BindContext context, ObjectReader spec, string field, RolloutStrategy strategy, bool required)
    {
        var node = spec.Take(field);
        if (node is null)
        {
            if (required)
            {
                spec.Missing(field, "{ version: v2, template: { kind: flex, gcsPath: gs://… } }");
            }

            return null;
        }

        var reader = ObjectReader.Open(context, node, spec.FieldPath(field), ManifestFields.VersionSpec);
        if (reader is null)
        {
            return null;
        }

        var before = context.Problems.Count;
        var version = reader.LenientString("version", required: true, example: "v2");
        if (version is not null && !Patterns.Matches(version, Patterns.Version))
        {
            reader.Error("version", $"'{ObjectReader.Shorten(version)}' is not valid: versions are 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit", "for example v42 or 2026.11.1");
            version = null;
        }

        var jobName = reader.Pattern("jobName", Patterns.JobName,
            "Dataflow job names are lowercase letters, digits and '-', starting with a letter and not ending with '-'", example: "clickstream-v2");
        var template = ManifestBinder.ReadTemplate(context, reader);
        var environment = EnvironmentBinder.Read(context, reader, template?.Kind);
        var parameters = ManifestBinder.ReadParameters(reader, value => SlotTemplate.ContainsMacro(value)
            ? "slot macros such as {{ ds }} exist only in Schedule jobs; a Rollout parameter is used as written"
            : null);
        var mapping = reader.StringMap("transformNameMapping", lenientValues: false);
        if (mapping is { Count: > 0 } && strategy != RolloutStrategy.Update)
        {
            reader.Error("transformNameMapping", "applies only to strategy update", "remove it, or set strategy: update");
        }

        reader.Finish();
        if (context.Problems.Count != before || version is null || template is null || environment is null)
        {
            return null;
        }

        return new PartialVersion(version, jobName, template, environment, parameters ?? new Dictionary<string, string>(), mapping ?? new Dictionary<string, string>());
    }

    private static StopSpec? ReadStop(BindContext context, ObjectReader spec)
    {
        var reader = ObjectReader.Open(context, spec.Take("stop"), spec.FieldPath("stop"), ManifestFields.Stop);
        if (reader is null)
        {
            return spec.Has("stop") ? null : new StopSpec();
        }

        var before = context.Problems.Count;
        var mode = reader.Enum("mode", StopModes);
        var timeout = reader.Duration("timeout", max: TimeSpan.FromDays(7));
        reader.Finish();
        var defaults = new StopSpec();
        return context.Problems.Count != before ? null : new StopSpec { Mode = mode ?? defaults.Mode, Timeout = timeout ?? defaults.Timeout };
    }

    private static ValidationSpec? ReadValidation(BindContext context, ObjectReader spec)
    {
        var reader = ObjectReader.Open(context, spec.Take("validation"), spec.FieldPath("validation"), ManifestFields.Validation);
        if (reader is null)
        {
            return spec.Has("validation") ? null : new ValidationSpec();
        }

        var before = context.Problems.Count;
        var timeout = reader.Duration("timeout", max: TimeSpan.FromDays(1));
        var checks = new List<ValidationCheck>();
        if (reader.Take("checks") is { } checksNode)
        {
            if (checksNode is not SequenceNode list)
            {
                context.Error(checksNode.Start, reader.FieldPath("checks"), $"must be a list of checks, not {checksNode.Describe()}", "write each check on a line starting with '- ', e.g. - state: RUNNING");
            }
            else
            {
                for (var i = 0; i < list.Items.Count; i++)
                {
                    if (ReadCheck(context, list.Items[i], BindContext.Index(reader.FieldPath("checks"), i)) is { } check)
                    {
                        checks.Add(check);
                    }
                }

                if (list.Items.Count == 0)
                {
                    context.Error(checksNode.Start, reader.FieldPath("checks"), "is empty; a rollout needs at least one check", "add - state: RUNNING, or remove 'checks' for that default");
                }
            }
        }

        reader.Finish();
        if (context.Problems.Count != before)
        {
            return null;
        }

        var defaults = new ValidationSpec();
        return new ValidationSpec { Timeout = timeout ?? defaults.Timeout, Checks = checks.Count > 0 ? checks : defaults.Checks };
    }

    private static ValidationCheck? ReadCheck(BindContext context, Node node, string path)
    {
        var reader = ObjectReader.Open(context, node, path, ManifestFields.Check);
        if (reader is null)
        {
            if (node is ScalarNode { IsNull: true })
            {
                context.Error(node.Start, path, "is empty", "write a check such as - state: RUNNING");
            }

            return null;
        }

        var present = ManifestFields.Check.Names.Where(reader.Has).ToList();
        if (present.Count > 1)
        {
            context.Error(node.Start, path, $"holds {present.Count} checks ({string.Join(", ", present)}); write each check as its own list item", "start each of them with '- '");
            return null;
        }

        if (present.Count == 0)
        {
            reader.Finish();
            if (reader.Node.Entries.Count == 0)
            {
                context.Error(node.Start, path, "is empty", "write a check such as - state: RUNNING");
            }

            return null;
        }

        var before = context.Problems.Count;
        ValidationCheck? check = null;
        switch (present[0])
        {
            case "state":
                var state = reader.Enum("state", States);
                check = state is null ? null : new StateCheck { State = state.Value };
                break;
            case "autoscaling":
                {
                    var inner = ObjectReader.Open(context, reader.Take("autoscaling"), reader.FieldPath("autoscaling"), ManifestFields.AutoscalingCheck);
                    if (inner is null)
                    {
                        break;
                    }

                    var min = inner.Int("minWorkers", 0, 1000);
                    var max = inner.Int("maxWorkers", 1, 1000);
                    inner.Finish();
                    if (!inner.Has("minWorkers") && !inner.Has("maxWorkers"))
                    {
                        context.Error(inner.MissingMark, inner.Path, "needs minWorkers, maxWorkers or both", "e.g. autoscaling: { minWorkers: 1 }");
                    }
                    else if (min > max)
                    {
                        inner.Error("minWorkers", $"is {min}, more than maxWorkers ({max})");
                    }

                    check = new AutoscalingCheck { MinWorkers = min, MaxWorkers = max };
                    break;
                }

            case "messages":
                {
                    var inner = ObjectReader.Open(context, reader.Take("messages"), reader.FieldPath("messages"), ManifestFields.MessagesCheck);
                    if (inner is null)
                    {
                        break;
                    }

                    var maxErrors = inner.Int("maxErrors", 0, 1_000_000);
                    var maxWarnings = inner.Int("maxWarnings", 0, 1_000_000);
                    var window = inner.Duration("for", max: TimeSpan.FromDays(1));
                    inner.Finish();
                    var defaults = new MessagesCheck();
                    check = new MessagesCheck { MaxErrors = maxErrors ?? defaults.MaxErrors, MaxWarnings = maxWarnings, For = window ?? defaults.For };
                    break;
                }

            case "metric":
                {
                    var inner = ObjectReader.Open(context, reader.Take("metric"), reader.FieldPath("metric"), ManifestFields.MetricCheck);
                    if (inner is null)
                    {
                        break;
                    }

                    var name = inner.Pattern("name", "^[A-Za-z][A-Za-z0-9_./-]{0,255}$", "metric names are letters, digits, '_', '.', '/' or '-'", required: true, example: "ElementCount");
                    var min = inner.Number("min");
                    var max = inner.Number("max");
                    inner.Finish();
                    if (!inner.Has("min") && !inner.Has("max"))
                    {
                        context.Error(inner.MissingMark, inner.Path, "needs min, max or both", "e.g. metric: { name: ElementCount, min: 1 }");
                    }
                    else if (min > max)
                    {
                        inner.Error("min", $"is {min}, more than max ({max})");
                    }

                    check = name is null ? null : new MetricCheck { Name = name, Min = min, Max = max };
                    break;
                }
        }

        reader.Finish();
        return context.Problems.Count == before ? check : null;
    }
}
