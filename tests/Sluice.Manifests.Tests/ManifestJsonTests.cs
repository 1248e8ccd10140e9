using System.Text.Json.Nodes;
using Sluice.Manifests.Rendering;

namespace Sluice.Manifests.Tests;

public class ManifestJsonTests
{
    private static IReadOnlyList<Manifest> Examples() => ManifestFiles.ReadAll([TestPaths.Examples]).Manifests;

    [Fact]
    public void Every_example_spec_survives_a_round_trip_through_stored_JSON()
    {
        foreach (var manifest in Examples())
        {
            var json = ManifestJson.Serialize(manifest);
            var back = ManifestJson.Deserialize<Manifest>(json);

            Assert.Equal(ManifestJson.Serialize(manifest), ManifestJson.Serialize(back));
            Assert.Equal(manifest.Kind, back.Kind);
        }
    }

    [Fact]
    public void Specs_are_stored_with_the_manifest_names()
    {
        var rollout = Examples().OfType<RolloutManifest>().Single(m => m.Metadata.Name == "clickstream-v2");

        var json = JsonNode.Parse(ManifestJson.Serialize(rollout.Spec))!;

        Assert.Equal("restart", json["strategy"]!.GetValue<string>());
        Assert.Equal("drain", json["stop"]!["mode"]!.GetValue<string>());
        Assert.Equal("2m", json["stop"]!["timeout"]!.GetValue<string>());
        Assert.Equal("clickstream-v1", json["from"]!["jobName"]!.GetValue<string>());
        Assert.Equal("classic", json["to"]!["template"]!["kind"]!.GetValue<string>());
        Assert.Equal("state", json["validation"]!["checks"]![0]!["type"]!.GetValue<string>());
        Assert.Equal("RUNNING", json["validation"]!["checks"]![0]!["state"]!.GetValue<string>());
        Assert.Null(json["project"]);
        Assert.True(ManifestJson.AreEquivalent(rollout.Spec, ManifestJson.Deserialize<RolloutSpec>(json.ToJsonString())));
        Assert.False(ManifestJson.AreEquivalent(rollout.Spec.From!, rollout.Spec.To));
    }

    [Fact]
    public void A_schedule_spec_read_back_computes_the_same_slots()
    {
        var schedule = Examples().OfType<ScheduleManifest>().Single().Spec;

        var back = ManifestJson.Deserialize<ScheduleSpec>(ManifestJson.Serialize(schedule));

        Assert.Equal(schedule.GetExpression().GetFirstSlot(), back.GetExpression().GetFirstSlot());
        Assert.Equal(schedule.Job.Parameters, back.Job.Parameters);
        Assert.Equal(schedule.Retries, back.Retries);
        Assert.Equal(schedule.StartDate, back.StartDate);
    }

    [Fact]
    public void Defaults_are_filled_in()
    {
        var text = """
            apiVersion: sluice/v1
            kind: Rollout
            metadata: { name: first }
            spec:
              pipeline: orders
              to:
                version: "2026.11"
                template: { gcsPath: gs://acme/t }
            """;

        var spec = Assert.IsType<RolloutManifest>(Assert.Single(ManifestReader.Read(text, "d.yaml").Manifests)).Spec;

        Assert.Equal(RolloutStrategy.Restart, spec.Strategy);
        Assert.Equal(TemplateKind.Classic, spec.To.Template.Kind);
        Assert.Equal("orders-2026-11", spec.To.JobName);
        Assert.Equal(new StopSpec { Mode = StopMode.Drain, Timeout = TimeSpan.FromMinutes(15) }, spec.Stop);
        Assert.Equal(TimeSpan.FromMinutes(10), spec.Validation.Timeout);
        Assert.IsType<StateCheck>(Assert.Single(spec.Validation.Checks));
        Assert.Equal(RollbackMode.Manual, spec.Rollback);
        Assert.Equal(MismatchAction.Stop, spec.OnMismatch);
        Assert.Equal(UpdateRefusedAction.Fail, spec.OnUpdateRefused);
        Assert.Null(spec.From);
    }

    [Fact]
    public void Update_keeps_the_running_job_name()
    {
        var update = Examples().OfType<RolloutManifest>().Single(m => m.Spec.Strategy == RolloutStrategy.Update).Spec;

        Assert.Equal("clickstream-v4", update.From!.JobName);
        Assert.Equal("clickstream-v4", update.To.JobName);
        Assert.Equal(TemplateKind.Flex, update.To.Template.Kind);
        Assert.Equal(UpdateRefusedAction.Restart, update.OnUpdateRefused);
    }

    [Fact]
    public void Rendering_a_schedule_shows_the_slot_and_the_job()
    {
        var schedule = Examples().OfType<ScheduleManifest>().Single();

        var rendered = ManifestRenderer.Render(schedule, new DateTimeOffset(2026, 1, 3, 0, 0, 0, TimeSpan.Zero));

        Assert.Equal("2026-01-03T00:00:00+00:00", rendered["slot"]!["logicalDate"]!.GetValue<string>());
        Assert.Equal("2026-01-04T00:00:00+00:00", rendered["slot"]!["dueAt"]!.GetValue<string>());
        Assert.Equal("daily-wordcount-20260103", rendered["job"]!["jobName"]!.GetValue<string>());
        Assert.Equal("gs://sluice-output/wordcount/2026-01-03/", rendered["job"]!["parameters"]!["output"]!.GetValue<string>());
        var error = Assert.Throws<ArgumentException>(() => ManifestRenderer.Render(schedule, new DateTimeOffset(2026, 1, 3, 5, 0, 0, TimeSpan.Zero)));
        Assert.Equal("2026-01-03T05:00:00+00:00 is not a slot of the schedule '@daily' (UTC); no later slot", error.Message);
    }

    [Fact]
    public void Rendered_YAML_reads_back_to_the_same_values()
    {
        foreach (var manifest in Examples())
        {
            var rendered = ManifestRenderer.Render(manifest);
            rendered.Remove("slot");
            rendered.Remove("job");

            var yaml = YamlWriter.Write(rendered);
            var back = ManifestReader.Read(yaml, "rendered.yaml");

            Assert.True(back.IsValid, yaml + string.Join('\n', back.Problems));
            Assert.Equal(ManifestJson.Serialize(manifest), ManifestJson.Serialize(Assert.Single(back.Manifests)));
        }
    }
}
