using Sluice.Dataflow;
using Sluice.Engine;

namespace Sluice.Controller.Rollouts.Steps;

/// <summary>What every rollout step needs: the registry, the Dataflow clients and the flow's settings.</summary>
public sealed class RolloutStepServices(PipelineRegistry registry, IDataflowClients clients, RolloutOptions options)
{
    public PipelineRegistry Registry { get; } = registry;

    public IDataflowClients Clients { get; } = clients;

    public RolloutOptions Options { get; } = options;
}

/// <summary>One call of a rollout step: the engine's context, the run's input and the pipeline's Dataflow client.</summary>
public sealed class RolloutStepCall
{
    internal RolloutStepCall(StepContext context, RolloutRunInput input, IDataflowClient dataflow)
    {
        Context = context;
        Input = input;
        Dataflow = dataflow;
    }

    public StepContext Context { get; }

    public RolloutRunInput Input { get; }

    public IDataflowClient Dataflow { get; }

    public long RunId => Context.Run.Id;

    public string Pipeline => Input.Spec.Pipeline;

    public bool IsRollback => Input.Kind == RolloutRunKinds.Rollback;

    public DateTimeOffset Now => Context.TimeProvider.GetUtcNow();

    public Task LogAsync(string message, CancellationToken cancellationToken) => Context.LogAsync(message, cancellationToken);
}

/// <summary>
/// Base of the rollout steps: reads the run's input and turns Dataflow's refusals into a failed step with Dataflow's
/// own message, and its outages into a retry.
/// </summary>
public abstract class RolloutStepHandler : IStepHandler
{
    protected RolloutStepHandler(RolloutStepServices services)
    {
        Services = services;
    }

    protected RolloutStepServices Services { get; }

    protected PipelineRegistry Registry => Services.Registry;

    protected RolloutOptions Options => Services.Options;

    /// <summary>The step name (<see cref="RolloutSteps"/>); the kind is derived from it.</summary>
    protected abstract string StepName { get; }

    public string Kind => RolloutSteps.KindOf(StepName);

    public async Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        var json = context.Run.InputJson ?? throw new InvalidOperationException($"Run {context.Run.Id} has no rollout input.");
        var input = RolloutRunInput.FromJson(json);
        var call = new RolloutStepCall(context, input, Services.Clients.For(input.Spec.Project, input.Spec.Region));
        try
        {
            return await ExecuteAsync(call, cancellationToken);
        }
        catch (DataflowApiException e) when (e.IsTransient)
        {
            return StepOutcome.Retry($"Dataflow is unavailable ({e.Message}); trying again.");
        }
        catch (DataflowApiException e)
        {
            await call.LogAsync($"Dataflow refused the request: {e.Message}", cancellationToken);
            return StepOutcome.Failed(DataflowErrors.Describe(e));
        }
    }

    protected abstract Task<StepOutcome> ExecuteAsync(RolloutStepCall call, CancellationToken cancellationToken);
}

internal static class DataflowErrors
{
    /// <summary>One sentence for a person: Dataflow's message plus the template parameters it refused.</summary>
    public static string Describe(DataflowApiException e)
    {
        var text = $"Dataflow refused the request ({(e.Status ?? e.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture))}): {e.Message.TrimEnd('.')}";
        if (e.Violations.Count > 0)
        {
            text += "; invalid parameters: " + string.Join(", ", e.Violations.Select(v => $"{v.Parameter} ({v.Description})"));
        }

        return text + ".";
    }
}
