namespace Sluice.Engine;

/// <summary>
/// A broadcast wake-up: <see cref="WaitAsync"/> returns a task that completes at the next <see cref="Fire"/>.
/// Taking the task before checking for work means no wake-up is lost between the check and the wait.
/// </summary>
internal sealed class Pulse
{
    private TaskCompletionSource current = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WaitAsync() => Volatile.Read(ref current).Task;

    public void Fire() =>
        Interlocked.Exchange(ref current, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Waits for the pulse, the delay (on the given clock) or cancellation, whichever comes first.</summary>
    public static async Task WaitAnyAsync(Task pulse, TimeSpan delay, TimeProvider time, CancellationToken cancellationToken)
    {
        if (pulse.IsCompleted)
        {
            return;
        }

        using var delayCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timer = Task.Delay(delay, time, delayCancel.Token);
#pragma warning disable VSTHRD003 // The pulse's task completes asynchronously on the pool; there is no context to deadlock on.
        await Task.WhenAny(pulse, timer);
#pragma warning restore VSTHRD003
        await delayCancel.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }
}
