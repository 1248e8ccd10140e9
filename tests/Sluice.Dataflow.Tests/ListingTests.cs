using Sluice.Dataflow;
using Sluice.Emulator;

namespace Sluice.Dataflow.Tests;

[Collection(EmulatorTestGroup.Name)]
public sealed class ListingTests(EmulatorFixture fixture)
{
    [Fact]
    public async Task Jobs_list_filters_by_state_and_name_and_pages()
    {
        // A project of its own, so that other tests' jobs do not appear.
        using var client = new DataflowClient(DataflowClientOptions.ForEmulator(fixture.Host.BaseUri, projectId: EmulatorFixture.UniqueName("paging"), location: "europe-west1"));
        Assert.Null((await client.ListJobsAsync(new ListJobsRequest())).Jobs);

        var day = DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime);
        var batchIds = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var job = (await client.LaunchTemplateAsync(ExampleTemplates.WordCount, new LaunchTemplateParameters
            {
                JobName = $"count-{i}",
                Parameters = new() { ["inputFile"] = ExampleTemplates.WordsInput(day), ["output"] = $"gs://out/paging/{Guid.NewGuid():N}.txt" },
            })).Job!;
            batchIds.Add(job.Id!);
            Assert.Equal("europe-west1", job.Location);
        }

        foreach (var id in batchIds)
        {
            await WaitAsync(client, id, JobState.Done);
        }

        var streaming = (await client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter, new LaunchTemplateParameters
        {
            JobName = "counter",
            Parameters = new() { ["output"] = $"gs://out/paging/{Guid.NewGuid():N}" },
        })).Job!;

        var active = await client.ListJobsAsync(new ListJobsRequest { Filter = JobListFilter.Active });
        Assert.Equal([streaming.Id], active.Jobs!.Select(job => job.Id));
        var terminated = await client.ListJobsAsync(new ListJobsRequest { Filter = JobListFilter.Terminated });
        Assert.Equal(batchIds.Order(StringComparer.Ordinal), terminated.Jobs!.Select(job => job.Id!).Order(StringComparer.Ordinal));
        var named = await client.ListJobsAsync(new ListJobsRequest { Name = "count-1" });
        Assert.Equal(batchIds[1], Assert.Single(named.Jobs!).Id);

        // Paging: two pages of two, the first holding the active job.
        var page1 = await client.ListJobsAsync(new ListJobsRequest { PageSize = 2 });
        Assert.Equal(2, page1.Jobs!.Count);
        Assert.Equal(streaming.Id, page1.Jobs[0].Id);
        Assert.NotNull(page1.NextPageToken);
        var page2 = await client.ListJobsAsync(new ListJobsRequest { PageSize = 2, PageToken = page1.NextPageToken });
        Assert.Equal(2, page2.Jobs!.Count);
        Assert.Null(page2.NextPageToken);
        Assert.Equal(4, page1.Jobs.Concat(page2.Jobs).Select(job => job.Id).Distinct().Count());
        Assert.Equal(4, await client.ListAllJobsAsync().CountAsync());

        // Summaries omit description data; the description view carries labels and environment.
        Assert.Null(page1.Jobs[0].Environment);
        Assert.NotNull((await client.GetJobAsync(streaming.Id!, JobView.Description)).Environment);

        await client.CancelJobAsync(streaming.Id!);
        await WaitAsync(client, streaming.Id!, JobState.Cancelled);
    }

    [Fact]
    public async Task Job_messages_filter_by_importance_and_time_window_and_page()
    {
        var name = EmulatorFixture.UniqueName("messages");
        var job = (await fixture.Client.LaunchTemplateAsync(ExampleTemplates.StreamingCounterFailing, new LaunchTemplateParameters
        {
            JobName = name,
            Parameters = new() { ["output"] = $"gs://out/{name}", ["intervalMs"] = "10" },
        })).Job!;
        await fixture.WaitForStateAsync(job.Id!, JobState.Failed);

        var all = await fixture.Client.ListAllJobMessagesAsync(job.Id!, new ListJobMessagesRequest());
        Assert.True(all.JobMessages!.Count >= 5);
        Assert.Equal(all.JobMessages.OrderBy(message => message.Time).Select(message => message.Id), all.JobMessages.Select(message => message.Id));
        Assert.NotEmpty(all.AutoscalingEvents!);

        // Pages of 2 add up to the whole list, in the same order.
        var paged = new List<JobMessage>();
        var events = 0;
        string? token = null;
        var pages = 0;
        do
        {
            var page = await fixture.Client.ListJobMessagesAsync(job.Id!, new ListJobMessagesRequest { PageSize = 2, PageToken = token });
            paged.AddRange(page.JobMessages ?? []);
            events += page.AutoscalingEvents?.Count ?? 0;
            Assert.True((page.JobMessages?.Count ?? 0) + (page.AutoscalingEvents?.Count ?? 0) <= 2);
            token = page.NextPageToken;
            pages++;
        }
        while (token is not null);

        Assert.True(pages > 2);
        Assert.Equal(all.JobMessages.Select(message => message.Id), paged.Select(message => message.Id));
        Assert.Equal(all.AutoscalingEvents!.Count, events);

        var warningsAndUp = await fixture.Client.ListAllJobMessagesAsync(job.Id!, new ListJobMessagesRequest { MinimumImportance = JobMessageImportance.Warning });
        Assert.All(warningsAndUp.JobMessages!, message => Assert.True(message.MessageImportance >= JobMessageImportance.Warning));
        Assert.NotEmpty(warningsAndUp.JobMessages!);

        var pivot = all.JobMessages[2].Time!.Value;
        var before = await fixture.Client.ListAllJobMessagesAsync(job.Id!, new ListJobMessagesRequest { EndTime = pivot });
        var after = await fixture.Client.ListAllJobMessagesAsync(job.Id!, new ListJobMessagesRequest { StartTime = pivot });
        Assert.All(before.JobMessages ?? [], message => Assert.True(message.Time < pivot));
        Assert.All(after.JobMessages!, message => Assert.True(message.Time >= pivot));
        Assert.Equal(all.JobMessages.Count, (before.JobMessages?.Count ?? 0) + after.JobMessages!.Count);
    }

    private static async Task WaitAsync(DataflowClient client, string jobId, JobState state)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while ((await client.GetJobAsync(jobId)).State != state)
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"job {jobId} did not reach {state}");
            await Task.Delay(50);
        }
    }
}
