using Microsoft.Extensions.DependencyInjection;
using Sluice.Buckets;
using Sluice.Controller.Intake;

namespace Sluice.Controller.Tests.Intake;

/// <summary>Crashes between taking an event in and handing it on, and several replicas on one store.</summary>
public sealed class IntakeRecoveryTests
{
    [Fact]
    public async Task Events_taken_in_but_not_handled_before_a_crash_are_handled_at_start_up_exactly_once()
    {
        await using var harness = new IntakeHarness();
        const int count = 40;
        for (var i = 0; i < count; i++)
        {
            IntakeHarness.WriteAtomically(harness.RolloutsDirectory, $"r{i}.yaml", Manifests.Rollout($"r{i}"));
        }

        // The previous process took every object in, dispatched half of them, and died before recording it.
        var services = await harness.BuildAsync();
        var ledger = harness.Ledger;
        IBucketSource bucket = services.GetRequiredService<IntakeBuckets>().Get(IntakeChannel.Rollouts);
        var earlierRuns = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var item = await bucket.StatAsync($"r{i}.yaml", CancellationToken.None) ?? throw new InvalidOperationException("file missing");
            var (intakeEvent, created) = await ledger.TryInsertAsync(new IncomingEvent(IntakeChannel.Rollouts, ObjectChange.Finalized, item, "scan"), CancellationToken.None);
            Assert.True(created);
            if (i % 2 == 0)
            {
                // It had claimed these when it died: the claim must not hold them back after the restart.
                Assert.True(await ledger.TryClaimAsync(intakeEvent.Id, "previous-process", TimeProvider.System.GetUtcNow().AddMinutes(5).ToUnixTimeMilliseconds(), CancellationToken.None));
                earlierRuns[intakeEvent.IdempotencyKey] = await harness.Flows.StartAsync(
                    (Sluice.Manifests.RolloutManifest)Sluice.Manifests.ManifestReader.Read(Manifests.Rollout($"r{i}"), "x").Manifests[0],
                    intakeEvent.IdempotencyKey, intakeEvent.Location, CancellationToken.None);
            }
        }

        Assert.All(await harness.EventsAsync(), e => Assert.Equal(IntakeEventState.Received, e.State));
        await harness.StopAsync();

        await harness.StartAsync();
        var events = await harness.WaitForSettledAsync(count);

        Assert.Equal(count, events.Length);
        Assert.All(events, e => Assert.Equal(IntakeEventState.Dispatched, e.State));
        Assert.Equal(count, harness.Flows.RunsByKey.Count);
        foreach (var (key, runId) in earlierRuns)
        {
            Assert.Equal(runId, events.Single(e => e.IdempotencyKey == key).Dispatches[0].RunId);
        }
    }

    [Fact]
    public async Task Events_taken_in_by_a_replica_that_died_are_taken_over_by_a_running_one()
    {
        var store = await TestPostgres.CreateDatabaseAsync();
        // This replica does not watch the bucket: only the ledger tells it about the other replica's events.
        await using var harness = new IntakeHarness(store, o =>
        {
            o.TakeOverAfter = TimeSpan.FromSeconds(1);
            o.Watch = false;
        });
        await harness.BuildAsync();

        // Another replica took six versions in. It died before handling three of them, and died while handling two
        // (its claims run out). A live replica is still busy with the last one (its claim holds).
        var bucket = harness.Services.GetRequiredService<IntakeBuckets>().Get(IntakeChannel.Rollouts);
        var ledger = harness.Ledger;
        var taken = new List<IntakeEvent>();
        for (var i = 0; i < 6; i++)
        {
            IntakeHarness.WriteAtomically(harness.RolloutsDirectory, $"r{i}.yaml", Manifests.Rollout($"r{i}"));
            var item = await bucket.StatAsync($"r{i}.yaml", CancellationToken.None) ?? throw new InvalidOperationException("file missing");
            var (intakeEvent, created) = await ledger.TryInsertAsync(new IncomingEvent(IntakeChannel.Rollouts, ObjectChange.Finalized, item, "watch"), CancellationToken.None);
            Assert.True(created);
            taken.Add(intakeEvent);
        }

        var now = TimeProvider.System.GetUtcNow();
        foreach (var e in taken.Take(2))
        {
            Assert.True(await ledger.TryClaimAsync(e.Id, "dead-replica", (now + TimeSpan.FromMilliseconds(300)).ToUnixTimeMilliseconds(), CancellationToken.None));
        }

        var heldByLive = taken[2];
        Assert.True(await ledger.TryClaimAsync(heldByLive.Id, "live-replica", (now + TimeSpan.FromMinutes(5)).ToUnixTimeMilliseconds(), CancellationToken.None));
        await harness.StopAsync();

        // This replica starts: it takes the unclaimed events at once, and the others as their claims run out.
        await harness.StartAsync();
        var events = await harness.WaitUntilDispatchedAsync(5, TimeSpan.FromSeconds(30));

        Assert.Equal(5, events.Length);
        Assert.Equal(5, harness.Flows.RunsByKey.Count);
        Assert.DoesNotContain(events, e => e.Id == heldByLive.Id);
        // The live claim is respected: two more take-over rounds later, that event is still the other replica's.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal(IntakeEventState.Received, (await harness.Ledger.GetAsync(heldByLive.Id, CancellationToken.None))!.State);
        Assert.False(harness.Flows.RunsByKey.ContainsKey(heldByLive.IdempotencyKey));
    }

    [Fact]
    public async Task Two_replicas_on_one_PostgreSQL_store_hand_each_object_version_on_once()
    {
        var store = await TestPostgres.CreateDatabaseAsync();
        await using var harness = new IntakeHarness(store);
        await harness.StartAsync();
        await using var replica = await harness.StartReplicaAsync();

        const int count = 300;
        for (var i = 0; i < count; i++)
        {
            IntakeHarness.WriteAtomically(harness.RolloutsDirectory, $"r{i:D3}.yaml", Manifests.Rollout($"r{i}"));
        }

        var events = await harness.WaitForSettledAsync(count, TimeSpan.FromSeconds(120));

        Assert.Equal(count, events.Length);
        Assert.All(events, e => Assert.Equal(IntakeEventState.Dispatched, e.State));
        // Exactly one run per object version, and one hand-on: a replica that starts while the other is handling
        // events lists them as received, but the other's claim keeps it off them.
        var starts = harness.Flows.CallsOf("start");
        Assert.Equal(count, starts.Count);
        Assert.Equal(count, starts.Select(c => c.Key).Distinct().Count());
        Assert.Equal(count, harness.Flows.RunsByKey.Count);
        Assert.All(events, e => Assert.Equal(harness.Flows.RunsByKey[e.IdempotencyKey], Assert.Single(e.Dispatches).RunId));
    }
}
