using Sluice.Controller.Intake;

namespace Sluice.Controller.Tests.Intake;

/// <summary>
/// The acceptance test: 1,000 manifests dropped into the watched directory while the controller is stopped
/// and 1,000 while it runs — some written twice, some half-written, some bad. Every valid object version starts
/// exactly one run; every bad one is rejected with a reason; nothing is left unhandled.
/// </summary>
public sealed class IntakeBulkTests : IAsyncLifetime
{
    private const int PerPhase = 1000;
    private readonly IntakeHarness _harness = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _harness.DisposeAsync().AsTask();

    [Fact]
    public async Task Two_thousand_manifests_while_stopped_and_while_running_each_valid_version_starts_exactly_one_run()
    {
        var expectations = new Dictionary<string, Expectation>(StringComparer.Ordinal);

        // Phase 1: the controller is down. What is in the directory when it starts is all that exists.
        foreach (var i in Enumerable.Range(0, PerPhase))
        {
            expectations.Add(Name("down", i), WriteWhileStopped("down", i));
        }

        await _harness.StartAsync();
        var afterStart = await _harness.WaitForSettledAsync(expectations.Values.Count(e => e.Reported), TimeSpan.FromSeconds(120));
        Assert.Equal(expectations.Values.Count(e => e.Reported), afterStart.Length);

        // Phase 2: the controller runs. Files arrive by rename, in place in two writes, twice, and as leftovers.
        var twice = new List<int>();
        foreach (var i in Enumerable.Range(0, PerPhase))
        {
            var (expectation, secondVersion) = WriteWhileRunning("up", i);
            expectations.Add(Name("up", i), expectation);
            if (secondVersion)
            {
                twice.Add(i);
            }
        }

        // The second versions come once the first ones are in, so that both versions are versions Sluice sees.
        await WaitForObjectsAsync(twice.Select(i => Name("up", i)));
        foreach (var i in twice)
        {
            IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, Name("up", i), Manifests.Rollout($"up-{i}", version: "v2"));
        }

        var expectedEvents = expectations.Values.Count(e => e.Reported) + twice.Count;
        var events = await _harness.WaitForSettledAsync(expectedEvents, TimeSpan.FromSeconds(120));

        // Every object version was handled; none is left in state received.
        Assert.All(events, e => Assert.NotEqual(IntakeEventState.Received, e.State));

        // Each dispatched version started exactly one run, under its own key, and no version was handed on twice.
        var starts = _harness.Flows.CallsOf("start");
        Assert.Equal(starts.Count, starts.Select(c => c.Key).Distinct().Count());
        var dispatched = events.Where(e => e.State == IntakeEventState.Dispatched).ToArray();
        Assert.Equal(dispatched.Length, starts.Count);
        Assert.All(dispatched, e => Assert.Equal(_harness.Flows.RunsByKey[e.IdempotencyKey], Assert.Single(e.Dispatches).RunId));

        var byObject = events.GroupBy(e => e.ObjectName).ToDictionary(g => g.Key, g => g.OrderBy(e => e.Generation).ToArray(), StringComparer.Ordinal);
        foreach (var (name, expectation) in expectations)
        {
            if (!expectation.Reported)
            {
                Assert.False(byObject.ContainsKey(name), $"{name} is a temp file and must never be taken in");
                continue;
            }

            var versions = byObject[name];
            var last = versions[^1];
            if (expectation.Valid)
            {
                Assert.True(last.State == IntakeEventState.Dispatched, $"{name}: the final version is {last.State}: {last.Reason}");
                var expectedDispatches = twice.Contains(Index(name)) && name.StartsWith("up", StringComparison.Ordinal) ? 2 : 1;
                Assert.Equal(expectedDispatches, versions.Count(v => v.State == IntakeEventState.Dispatched));

                // A half-written version may have been seen before the rest arrived; it must never start a run.
                Assert.All(versions[..^1].Where(v => expectedDispatches == 1), v => Assert.NotEqual(IntakeEventState.Dispatched, v.State));
            }
            else
            {
                var only = Assert.Single(versions);
                Assert.Equal(IntakeEventState.Rejected, only.State);
                Assert.Contains(expectation.ReasonContains!, only.Reason, StringComparison.OrdinalIgnoreCase);
            }
        }

        // A restart takes nothing in again: every object is known at its generation.
        await _harness.StopAsync();
        var startsBefore = _harness.Flows.Calls.Count;
        await _harness.StartAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(events.Length, (await _harness.EventsAsync()).Length);
        Assert.Equal(startsBefore, _harness.Flows.Calls.Count);
    }

    private Expectation WriteWhileStopped(string phase, int i)
    {
        var name = Name(phase, i);
        var text = Manifests.Rollout($"{phase}-{i}");
        switch (i % 10)
        {
            case 1:
                IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, name, text.Replace("strategy: restart", "strategy: sideways"));
                return Expectation.Rejected("spec.strategy");
            case 2:
                IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, name, "kind: Rollout\nspec: [unclosed\n");
                return Expectation.Rejected("error");
            case 3:
                IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, name, Manifests.Rollout($"{phase}-{i}", template: "gs://sluice-templates/missing.json"));
                return Expectation.Rejected("does not exist");
            case 4:
                // Written twice while down: only the second version exists when the controller starts.
                IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, name, text);
                IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, name, Manifests.Rollout($"{phase}-{i}", version: "v2"));
                return Expectation.ValidOnce;
            case 5:
                // A copy that never finished: still under its temp name.
                File.WriteAllText(Path.Combine(_harness.RolloutsDirectory, $".{name}.tmp"), text[..(text.Length / 2)]);
                return Expectation.Temp;
            case 6:
                // A writer that died half way, in place: the cut-off text is not a valid manifest.
                File.WriteAllText(Path.Combine(_harness.RolloutsDirectory, name), text[..text.IndexOf("template:", StringComparison.Ordinal)]);
                return Expectation.Rejected("template");
            default:
                IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, name, text);
                return Expectation.ValidOnce;
        }
    }

    private (Expectation Expectation, bool SecondVersion) WriteWhileRunning(string phase, int i)
    {
        var name = Name(phase, i);
        var text = Manifests.Rollout($"{phase}-{i}");
        switch (i % 10)
        {
            case 4:
                IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, name, text);
                return (Expectation.ValidOnce, true);
            case 6:
                {
                    // Written in place in two parts: the watcher waits until the file stops changing.
                    var path = Path.Combine(_harness.RolloutsDirectory, name);
                    using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
                    {
                        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
                        stream.Write(bytes, 0, bytes.Length / 2);
                        stream.Flush(flushToDisk: false);
                        Thread.Sleep(5);
                        stream.Write(bytes, bytes.Length / 2, bytes.Length - (bytes.Length / 2));
                    }

                    return (Expectation.ValidOnce, false);
                }

            default:
                return (WriteWhileStopped(phase, i), false);
        }
    }

    private async Task WaitForObjectsAsync(IEnumerable<string> names)
    {
        var wanted = names.ToHashSet(StringComparer.Ordinal);
        await IntakeHarness.WaitUntilAsync(
            async () =>
            {
                var events = await _harness.EventsAsync();
                return wanted.All(n => events.Any(e => e.ObjectName == n && e.State == IntakeEventState.Dispatched));
            },
            TimeSpan.FromSeconds(120),
            "the first versions of the objects written twice are dispatched");
    }

    private static string Name(string phase, int i) => $"{phase}-{i:D4}.yaml";

    private static int Index(string name) => int.Parse(name.AsSpan(name.IndexOf('-', StringComparison.Ordinal) + 1, 4), System.Globalization.CultureInfo.InvariantCulture);

    private sealed record Expectation(bool Reported, bool Valid, string? ReasonContains)
    {
        public static readonly Expectation ValidOnce = new(true, true, null);
        public static readonly Expectation Temp = new(false, false, null);

        public static Expectation Rejected(string reasonContains) => new(true, false, reasonContains);
    }
}
