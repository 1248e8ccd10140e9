using Sluice.Controller.Rollouts;
using Sluice.Dataflow;
using Sluice.Manifests;

namespace Sluice.Controller.Tests.Rollouts;

public class JobValidationTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private static JobObservation Running(TimeSpan runningFor) => new()
    {
        State = JobState.Running,
        RunningSince = Now - runningFor,
    };

    [Fact]
    public void A_running_streaming_job_passes_the_state_check()
    {
        var result = JobValidation.Evaluate(new StateCheck(), Running(TimeSpan.Zero), Now);
        Assert.Equal(CheckStatus.Passed, result.Status);
    }

    [Fact]
    public void A_pending_job_is_not_yet_valid()
    {
        var result = JobValidation.Evaluate(new StateCheck(), new JobObservation { State = JobState.Pending }, Now);
        Assert.Equal(CheckStatus.Pending, result.Status);
        Assert.Contains("JOB_STATE_PENDING", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(JobState.Failed)]
    [InlineData(JobState.Cancelled)]
    [InlineData(JobState.Drained)]
    [InlineData(JobState.Done)]
    public void A_streaming_job_that_ended_fails_every_check_at_once(JobState state)
    {
        var job = new JobObservation { State = state, LastError = "boom at element 10" };
        ValidationCheck[] checks = [new StateCheck(), new AutoscalingCheck { MinWorkers = 1 }, new MessagesCheck(), new MetricCheck { Name = "ElementCount", Min = 1 }];
        foreach (var result in JobValidation.Evaluate(checks, job, Now))
        {
            Assert.Equal(CheckStatus.Failed, result.Status);
            Assert.Contains("boom at element 10", result.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_batch_job_must_be_done_even_when_the_manifest_says_running()
    {
        var running = new JobObservation { State = JobState.Running, IsBatch = true, RunningSince = Now };
        var done = new JobObservation { State = JobState.Done, IsBatch = true, RunningSince = Now - TimeSpan.FromMinutes(1), PeakWorkers = 3 };
        Assert.Equal(CheckStatus.Pending, JobValidation.Evaluate(new StateCheck(), running, Now).Status);
        Assert.Equal(CheckStatus.Passed, JobValidation.Evaluate(new StateCheck(), done, Now).Status);
        Assert.Equal(CheckStatus.Passed, JobValidation.Evaluate(new AutoscalingCheck { MinWorkers = 2 }, done, Now).Status);
        Assert.Equal(CheckStatus.Passed, JobValidation.Evaluate(new MessagesCheck { For = TimeSpan.FromHours(1) }, done, Now).Status);
    }

    [Fact]
    public void Messages_pass_only_after_the_window_and_fail_at_once_on_too_many_errors()
    {
        var check = new MessagesCheck { MaxErrors = 1, For = TimeSpan.FromMinutes(2) };
        Assert.Equal(CheckStatus.Pending, JobValidation.Evaluate(check, Running(TimeSpan.FromMinutes(1)), Now).Status);
        Assert.Equal(CheckStatus.Passed, JobValidation.Evaluate(check, Running(TimeSpan.FromMinutes(2)), Now).Status);
        Assert.Equal(CheckStatus.Passed, JobValidation.Evaluate(check, Running(TimeSpan.FromMinutes(3)) with { Errors = 1 }, Now).Status);

        var tooMany = JobValidation.Evaluate(check, Running(TimeSpan.FromSeconds(5)) with { Errors = 2, LastError = "disk full" }, Now);
        Assert.Equal(CheckStatus.Failed, tooMany.Status);
        Assert.Contains("2 error message(s), at most 1 allowed", tooMany.Detail, StringComparison.Ordinal);
        Assert.Contains("disk full", tooMany.Detail, StringComparison.Ordinal);

        var warnings = new MessagesCheck { MaxErrors = 0, MaxWarnings = 0 };
        Assert.Equal(CheckStatus.Failed, JobValidation.Evaluate(warnings, Running(TimeSpan.Zero) with { Warnings = 1 }, Now).Status);
    }

    [Fact]
    public void The_sensor_wakes_when_a_messages_window_closes()
    {
        ValidationCheck[] checks = [new MessagesCheck { For = TimeSpan.FromMinutes(2) }];
        Assert.Equal(Now + TimeSpan.FromMinutes(1), JobValidation.NextWindowEnd(checks, Running(TimeSpan.FromMinutes(1)), Now));
        Assert.Null(JobValidation.NextWindowEnd(checks, new JobObservation { State = JobState.Pending }, Now));
    }

    [Fact]
    public void Autoscaling_uses_the_newest_worker_count_within_bounds()
    {
        var check = new AutoscalingCheck { MinWorkers = 2, MaxWorkers = 4 };
        Assert.Equal(CheckStatus.Pending, JobValidation.Evaluate(check, Running(TimeSpan.Zero), Now).Status);
        Assert.Equal(CheckStatus.Pending, JobValidation.Evaluate(check, Running(TimeSpan.Zero) with { CurrentWorkers = 1 }, Now).Status);
        Assert.Equal(CheckStatus.Passed, JobValidation.Evaluate(check, Running(TimeSpan.Zero) with { CurrentWorkers = 3 }, Now).Status);
        Assert.Equal(CheckStatus.Pending, JobValidation.Evaluate(check, Running(TimeSpan.Zero) with { CurrentWorkers = 5 }, Now).Status);
    }

    [Fact]
    public void Metrics_are_summed_over_contexts_without_tentative_values()
    {
        var metrics = new JobMetrics
        {
            Metrics =
            [
                Metric("ElementCount", 3, null),
                Metric("ElementCount", 4, new() { ["step"] = "s2" }),
                Metric("ElementCount", 100, new() { ["tentative"] = "true" }),
                Metric("Errors", 0, null),
            ],
        };
        var sums = JobValidation.SumMetrics(metrics);
        Assert.Equal(7, sums["ElementCount"]);
        Assert.Equal(0, sums["Errors"]);

        var job = Running(TimeSpan.Zero) with { Metrics = sums };
        Assert.Equal(CheckStatus.Passed, JobValidation.Evaluate(new MetricCheck { Name = "ElementCount", Min = 7 }, job, Now).Status);
        Assert.Equal(CheckStatus.Pending, JobValidation.Evaluate(new MetricCheck { Name = "ElementCount", Min = 8 }, job, Now).Status);
        Assert.Equal(CheckStatus.Pending, JobValidation.Evaluate(new MetricCheck { Name = "ElementCount", Max = 6 }, job, Now).Status);
        Assert.Equal(CheckStatus.Pending, JobValidation.Evaluate(new MetricCheck { Name = "Latency", Max = 6 }, job, Now).Status);
    }

    private static MetricUpdate Metric(string name, double value, Dictionary<string, string>? context) => new()
    {
        Name = new MetricStructuredName { Origin = "user", Name = name, Context = context },
        Scalar = System.Text.Json.JsonSerializer.SerializeToElement(value),
    };
}
