namespace Sluice.Controller.Tests.Intake;

/// <summary>Manifest texts for the intake tests.</summary>
internal static class Manifests
{
    public const string TemplatesBucket = "sluice-templates";
    public const string Template = "gs://sluice-templates/templates/counter.json";

    public static string Rollout(string name, string pipeline = "clickstream", string version = "v1", string template = Template) => $"""
        apiVersion: sluice/v1
        kind: Rollout
        metadata:
          name: {name}
        spec:
          pipeline: {pipeline}
          strategy: restart
          to:
            version: {version}
            template:
              kind: classic
              gcsPath: {template}
            parameters:
              output: gs://sluice-output/{pipeline}/{version}/
        """;

    public static string Schedule(string name, string dagId, string template = Template) => $"""
        apiVersion: sluice/v1
        kind: Schedule
        metadata:
          name: {name}
        spec:
          dagId: {dagId}
          schedule: "@daily"
          timeZone: UTC
          startDate: 2026-01-01
          catchup: false
          job:
            template:
              kind: classic
              gcsPath: {template}
            jobName: "{dagId.Replace('_', '-')}-{"{{"} ds_nodash {"}}"}"
            parameters:
              date: "{"{{"} ds {"}}"}"
        """;

    public static string Unschedule(string name, string dagId) => $"""
        apiVersion: sluice/v1
        kind: Unschedule
        metadata:
          name: {name}
        spec:
          dagId: {dagId}
        """;
}
