using System.Data.Common;

namespace Sluice.Engine;

/// <summary>Shared transaction and retry logic of both dialects.</summary>
internal abstract class DatabaseBase : IDatabase
{
    private const int MaxAttempts = 8;

    protected DatabaseBase(TimeProvider timeProvider)
    {
        TimeProvider = timeProvider;
    }

    public abstract StoreDialect Dialect { get; }

    public abstract string DisplayName { get; }

    public TimeProvider TimeProvider { get; }

    public long NowMs() => TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    public abstract Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await WriteOnceAsync(work, cancellationToken);
            }
            catch (Exception ex) when (attempt < MaxAttempts && IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                // Jittered pause so that two replicas that conflicted do not collide again in lockstep.
                await Task.Delay(TimeSpan.FromMilliseconds((5 << Math.Min(attempt, 6)) * (0.5 + Random.Shared.NextDouble())), cancellationToken);
            }
        }
    }

    public async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await OpenConnectionAsync(cancellationToken);
                return await work(connection);
            }
            catch (Exception ex) when (attempt < 3 && IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt), cancellationToken);
            }
        }
    }

    public abstract ValueTask DisposeAsync();

    protected abstract Task<T> WriteOnceAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken);

    protected abstract bool IsTransient(Exception exception);
}
