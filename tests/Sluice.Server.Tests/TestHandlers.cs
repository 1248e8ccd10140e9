using Sluice.Engine;

namespace Sluice.Server.Tests;

/// <summary>Logs a few lines, then succeeds.</summary>
internal sealed class ChattyStep : IStepHandler
{
    public string Kind => "test-chatty";

    public async Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        for (var i = 1; i <= 3; i++)
        {
            await context.LogAsync($"line {i} of {context.Step.Name}", cancellationToken);
        }

        return StepOutcome.SucceededWith(new { lines = 3 });
    }
}

/// <summary>Waits (without a thread) until a file named in its input exists, so tests decide when it finishes.</summary>
internal sealed class GateStep : IStepHandler
{
    public string Kind => "test-gate";

    public async Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        var gate = context.GetInput<string>();
        if (!context.Resumed && context.GetData<string>() is null)
        {
            await context.LogAsync("waiting for the gate", cancellationToken);
            context.SetData("waiting");
        }

        return File.Exists(gate) ? StepOutcome.Succeeded() : StepOutcome.Wait(TimeSpan.FromMilliseconds(100));
    }
}

/// <summary>Always fails with a reason.</summary>
internal sealed class FailingStep : IStepHandler
{
    public string Kind => "test-fail";

    public Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken) =>
        Task.FromResult(StepOutcome.Failed("the test step failed on purpose"));
}
