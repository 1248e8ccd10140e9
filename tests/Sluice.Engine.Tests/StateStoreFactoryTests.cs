namespace Sluice.Engine.Tests;

public class StateStoreFactoryTests
{
    [Theory]
    [InlineData("postgres://sluice:s3cret@db.internal:6543/state?sslmode=require", "postgres://sluice@db.internal:6543/state")]
    [InlineData("postgresql://me@localhost/sluice", "postgres://me@localhost:5432/sluice")]
    [InlineData("Host=10.0.0.5;Port=5433;Username=u;Password=p;Database=d", "postgres://u@10.0.0.5:5433/d")]
    public async Task PostgreSQL_URIs_and_connection_strings_open_a_postgres_store_without_showing_the_password(string store, string display)
    {
        await using var database = StateStoreFactory.Open(store);
        Assert.Equal(StoreDialect.Postgres, database.Dialect);
        Assert.Equal(display, database.DisplayName);
    }

    [Fact]
    public async Task A_sqlite_uri_creates_the_directory_and_uses_wal()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sluice-engine-tests", Guid.NewGuid().ToString("N"), "nested");
        await using var database = StateStoreFactory.Open($"sqlite://{dir}/sluice.db");
        Assert.Equal(StoreDialect.Sqlite, database.Dialect);
        Assert.True(Directory.Exists(dir));
        var mode = await database.ReadAsync(
            async c =>
            {
                await using var command = c.CreateCommand("PRAGMA journal_mode", null);
                return (string?)await command.ExecuteScalarAsync();
            },
            CancellationToken.None);
        Assert.Equal("wal", mode);
    }

    [Theory]
    [InlineData("mysql://root@localhost/db", "neither sqlite:///path/sluice.db nor postgres://")]
    [InlineData("sqlite://", "names no file")]
    [InlineData("postgres://user:hunter2@/db", "not a valid PostgreSQL URI")]
    [InlineData("postgres://u@h/db?frobnicate=1", "unknown option 'frobnicate'")]
    public void Bad_stores_get_one_sentence_that_says_how_to_fix_them(string store, string expected)
    {
        var error = Assert.Throws<StateStoreException>(() => StateStoreFactory.Open(store));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_postgres_server_is_reported_clearly()
    {
        await using var database = StateStoreFactory.Open("Host=127.0.0.1;Port=1;Username=x;Database=y;Timeout=2");
        var error = await Assert.ThrowsAsync<StateStoreException>(() => database.OpenConnectionAsync(CancellationToken.None));
        Assert.Contains("Cannot connect to the PostgreSQL state store postgres://x@127.0.0.1:1/y", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Retry_delays_grow_exponentially_within_the_jitter_and_cap()
    {
        var policy = new RetryPolicy { InitialDelay = TimeSpan.FromSeconds(2), Multiplier = 3, MaxDelay = TimeSpan.FromSeconds(30), JitterFraction = 0.25 };
        Assert.Equal(TimeSpan.FromSeconds(2), policy.GetDelay(1, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(6), policy.GetDelay(2, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(18), policy.GetDelay(3, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(30), policy.GetDelay(4, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(1.5), policy.GetDelay(1, 0));
        Assert.Equal(TimeSpan.FromSeconds(2.5), policy.GetDelay(1, 1));
    }

    [Fact]
    public void Invalid_engine_options_are_reported_together()
    {
        var options = new EngineOptions { ReplicaId = "", PollInterval = TimeSpan.Zero, MaxConcurrentRuns = 0 };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("replica id", error.Message, StringComparison.Ordinal);
        Assert.Contains("poll interval", error.Message, StringComparison.Ordinal);
        Assert.Contains("max concurrent runs", error.Message, StringComparison.Ordinal);
    }
}
