using System.Data.Common;

namespace Sluice.Engine.Tests;

/// <summary>
/// The SQLite store commits concurrent writes together; each write must still behave as its own transaction:
/// it sees the writes queued before it, and its failure undoes only its own changes.
/// </summary>
public sealed class SqliteGroupCommitTests
{
    [Fact]
    public async Task Concurrent_writes_commit_together_and_a_failing_one_is_undone_alone()
    {
        await using var database = StateStoreFactory.Open(TestStores.NewSqliteUri(), TimeProvider.System);
        await database.WriteAsync(
            (c, t) => c.ExecuteAsync(t, "CREATE TABLE items (id INTEGER PRIMARY KEY, owner INTEGER NOT NULL); INSERT INTO items VALUES (5, 0)", default),
            default);

        // 300 writers at once; each inserts two rows. Every 10th throws after its first insert, and every 15th collides
        // with the row that was there before on its second insert (a constraint error from SQLite itself).
        var writes = Enumerable.Range(1, 300).Select(i => Task.Run(() => database.WriteAsync<int>(
            async (c, t) =>
            {
                await c.ExecuteAsync(t, "INSERT INTO items (id, owner) VALUES (@id, @owner)", default, ("id", i * 10), ("owner", i));
                if (i % 10 == 0)
                {
                    throw new InvalidOperationException($"writer {i} gave up");
                }

                var second = i % 15 == 0 ? 5 : (i * 10) + 1;
                await c.ExecuteAsync(t, "INSERT INTO items (id, owner) VALUES (@id, @owner)", default, ("id", second), ("owner", i));
                return i;
            },
            default))).ToList();
        var outcomes = new List<(int Writer, Exception? Error)>();
        for (var i = 0; i < writes.Count; i++)
        {
            try
            {
                await writes[i];
                outcomes.Add((i + 1, null));
            }
            catch (Exception ex)
            {
                outcomes.Add((i + 1, ex));
            }
        }

        foreach (var (writer, error) in outcomes)
        {
            if (writer % 10 == 0)
            {
                Assert.Equal($"writer {writer} gave up", Assert.IsType<InvalidOperationException>(error).Message);
            }
            else if (writer % 15 == 0)
            {
                Assert.Contains("UNIQUE", Assert.IsAssignableFrom<DbException>(error).Message, StringComparison.Ordinal);
            }
            else
            {
                Assert.Null(error);
            }
        }

        // Exactly the rows of the writers that succeeded, both of each, nothing of a failed writer.
        var rows = await database.ReadAsync(
            c => c.QueryAsync(null, "SELECT id, owner FROM items WHERE owner > 0 ORDER BY id", r => (Id: r.GetInt64(0), Owner: r.GetInt64(1)), default), default);
        var succeeded = outcomes.Where(o => o.Error is null).Select(o => (long)o.Writer).ToHashSet();
        Assert.Equal(succeeded.Count * 2, rows.Count);
        Assert.All(rows, r => Assert.Contains(r.Owner, succeeded));
        Assert.Equal(succeeded.Order(), rows.Select(r => r.Owner).Distinct().Order());
    }

    [Fact]
    public async Task A_write_sees_the_writes_committed_with_it_before_it()
    {
        await using var database = StateStoreFactory.Open(TestStores.NewSqliteUri(), TimeProvider.System);
        await database.WriteAsync((c, t) => c.ExecuteAsync(t, "CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0)", default), default);

        // Read-modify-write from 200 writers at once: serialized writes lose no increment.
        await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => database.WriteAsync<int>(
            async (c, t) =>
            {
                var rows = await c.QueryAsync(t, "SELECT n FROM counter", r => r.GetInt64(0), default);
                return await c.ExecuteAsync(t, "UPDATE counter SET n = @n", default, ("n", rows[0] + 1));
            },
            default))));

        var final = await database.ReadAsync(c => c.QueryAsync(null, "SELECT n FROM counter", r => r.GetInt64(0), default), default);
        Assert.Equal(200, final[0]);
    }
}
