using Sluice.Dataflow;
using Sluice.Emulator;

namespace Sluice.Dataflow.Tests;

[Collection(EmulatorTestGroup.Name)]
public sealed class LaunchValidationTests(EmulatorFixture fixture)
{
    private DataflowClient Client => fixture.Client;

    [Fact]
    public async Task A_second_launch_with_an_active_name_is_refused_with_409_already_exists()
    {
        var name = EmulatorFixture.UniqueName("dup");
        var parameters = new LaunchTemplateParameters { JobName = name, Parameters = new() { ["output"] = $"gs://out/{name}" } };
        var first = (await Client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter, parameters)).Job!;

        var error = await Assert.ThrowsAsync<DataflowApiException>(() => Client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter, parameters));
        Assert.Equal(409, error.StatusCode);
        Assert.Equal("ALREADY_EXISTS", error.Status);
        Assert.True(error.IsAlreadyExists);
        Assert.Contains($"There is already an active job named {name}", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);

        await Client.CancelJobAsync(first.Id!);
        await fixture.WaitForStateAsync(first.Id!, JobState.Cancelled);
    }

    [Fact]
    public async Task Parameters_are_checked_against_the_template_metadata()
    {
        var error = await Assert.ThrowsAsync<DataflowApiException>(() => Client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter,
            new LaunchTemplateParameters
            {
                JobName = EmulatorFixture.UniqueName("bad"),
                Parameters = new() { ["intervalMs"] = "fast", ["colour"] = "blue" },
            }));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("INVALID_ARGUMENT", error.Status);
        Assert.Equal(["colour", "intervalMs", "output"], error.Violations.Select(violation => violation.Parameter).Order(StringComparer.Ordinal));
        Assert.Contains(error.Violations, violation => violation.Parameter == "output" && violation.Description.Contains("Missing required", StringComparison.Ordinal));
        Assert.Contains(error.Violations, violation => violation.Parameter == "intervalMs" && violation.Description.Contains("^[0-9]+$", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Flex_parameters_are_checked_too_and_validate_only_launches_nothing()
    {
        var name = EmulatorFixture.UniqueName("validate");
        var bad = await Assert.ThrowsAsync<DataflowApiException>(() => Client.LaunchFlexTemplateAsync(new LaunchFlexTemplateParameter
        {
            JobName = name,
            ContainerSpecGcsPath = ExampleTemplates.StreamingCounterFlex,
            Parameters = new() { ["output"] = "/not/a/bucket/path" },
        }, validateOnly: true));
        Assert.Equal("output", Assert.Single(bad.Violations).Parameter);

        var classic = await Client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter,
            new LaunchTemplateParameters { JobName = name, Parameters = new() { ["output"] = "gs://out/v" } }, validateOnly: true);
        var flex = await Client.LaunchFlexTemplateAsync(new LaunchFlexTemplateParameter
        {
            JobName = name,
            ContainerSpecGcsPath = ExampleTemplates.StreamingCounterFlex,
            Parameters = new() { ["output"] = "gs://out/v" },
        }, validateOnly: true);

        Assert.Null(classic.Job);
        Assert.Null(flex.Job);
        Assert.Empty(await Client.ListAllJobsAsync(JobListFilter.All, name).ToListAsync());
    }

    [Fact]
    public async Task Invalid_job_names_and_missing_templates_are_refused_with_a_sentence_that_says_what_to_fix()
    {
        var badName = await Assert.ThrowsAsync<DataflowApiException>(() => Client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter,
            new LaunchTemplateParameters { JobName = "Not_Valid", Parameters = new() { ["output"] = "gs://out/x" } }));
        Assert.Equal("INVALID_ARGUMENT", badName.Status);
        Assert.Contains("lowercase", badName.Message, StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<DataflowApiException>(() => Client.LaunchTemplateAsync("gs://sluice-examples/templates/nope",
            new LaunchTemplateParameters { JobName = "nope" }));
        Assert.Equal(400, missing.StatusCode);
        Assert.Contains("Unable to open template file: gs://sluice-examples/templates/nope", missing.Message, StringComparison.Ordinal);

        var notFound = await Assert.ThrowsAsync<DataflowApiException>(() => Client.GetJobAsync("2020-01-01_00_00_00-1"));
        Assert.Equal(404, notFound.StatusCode);
        Assert.True(notFound.IsNotFound);
    }

    [Fact]
    public async Task Templates_get_returns_the_metadata_of_classic_and_flex_templates()
    {
        var classic = await Client.GetTemplateAsync(ExampleTemplates.WordCount);
        Assert.Equal(TemplateType.Legacy, classic.TemplateType);
        Assert.Equal(["inputFile", "output"], classic.Metadata!.Parameters!.Select(parameter => parameter.Name));
        Assert.False(classic.Metadata.Streaming);

        var flex = await Client.GetTemplateAsync(ExampleTemplates.StreamingCounterFlex);
        Assert.Equal(TemplateType.Flex, flex.TemplateType);
        Assert.True(flex.Metadata!.Streaming);
        Assert.Contains(flex.RuntimeMetadata!.Parameters!, parameter => parameter.Name == "output" && parameter.IsOptional == false);
    }

    [Fact]
    public async Task Unknown_paths_answer_in_googles_error_format()
    {
        using var http = new HttpClient { BaseAddress = fixture.Host.BaseUri };
        using var response = await http.GetAsync(new Uri("v1b3/projects/p/locations/l/snapshots", UriKind.Relative));
        Assert.Equal(404, (int)response.StatusCode);
        var error = DataflowApiException.FromResponse(404, await response.Content.ReadAsStringAsync());
        Assert.Equal("NOT_FOUND", error.Status);
        Assert.Equal("notFound", error.Reason);
    }
}
