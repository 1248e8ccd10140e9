using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sluice.Dataflow;
using Sluice.Manifests;
using ManifestEnvironment = Sluice.Manifests.RuntimeEnvironment;

namespace Sluice.Controller.Schedules;

/// <summary>The job a slot launches, frozen when the slot run renders it.</summary>
public sealed record SlotJob
{
    public required string DagId { get; init; }

    /// <summary>Dataflow project of the job; null for the server's default.</summary>
    public string? Project { get; init; }

    /// <summary>Dataflow region of the job; null for the server's default.</summary>
    public string? Region { get; init; }

    /// <summary>The job name of the first attempt; later attempts derive theirs from it (<see cref="SlotJobs.NameForAttempt"/>).</summary>
    public required string JobName { get; init; }

    public required TemplateRef Template { get; init; }

    public required ManifestEnvironment Environment { get; init; }

    public required IReadOnlyDictionary<string, string> Parameters { get; init; }

    /// <summary>Attempts in total: 1 + the manifest's retries.</summary>
    public required int MaxAttempts { get; init; }

    public required Manifests.RetryPolicy Retries { get; init; }

    public TimeSpan? Timeout { get; init; }

    /// <summary>The version of the schedule's spec the job was rendered from.</summary>
    public int SpecVersion { get; init; }
}

/// <summary>One launched attempt of a slot's job.</summary>
public sealed record SlotJobAttempt(int Attempt, string JobId, string JobName, DateTimeOffset LaunchedAt);

/// <summary>Job names, launches and the mapping of manifest environments to Dataflow's.</summary>
public static class SlotJobs
{
    private const int MaxJobNameLength = 1024;

    /// <summary>
    /// The job name of a slot: the rendered template, made a valid Dataflow name. A template without any macro would
    /// give every slot the same name, so the slot's date is appended to keep each slot's job its own.
    /// </summary>
    public static string NameForSlot(string template, string rendered, DateTimeOffset logicalDate)
    {
        var name = Sanitize(rendered);
        if (!template.Contains("{{", StringComparison.Ordinal))
        {
            name = Sanitize(name + "-" + logicalDate.ToString("yyyyMMdd't'HHmmss", CultureInfo.InvariantCulture));
        }

        return name;
    }

    /// <summary>The first attempt keeps the slot's name; attempt n gets <c>-retry{n-1}</c>, so each attempt is a job of its own.</summary>
    public static string NameForAttempt(string slotJobName, int attempt) =>
        attempt <= 1 ? slotJobName : Sanitize(slotJobName + "-retry" + (attempt - 1).ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Makes text a Dataflow job name (<c>[a-z]([-a-z0-9]*[a-z0-9])?</c>): lower case, other characters become '-', a
    /// leading letter is ensured, and a name that is too long keeps a hash of the whole so that names stay distinct.
    /// </summary>
    public static string Sanitize(string text)
    {
        var builder = new StringBuilder(text.Length + 1);
        foreach (var c in text.ToLowerInvariant())
        {
            var ok = char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);
            if (ok)
            {
                builder.Append(c);
            }
            else if (builder.Length > 0 && builder[^1] != '-')
            {
                builder.Append('-');
            }
        }

        var name = builder.ToString().Trim('-');
        if (name.Length == 0 || !char.IsAsciiLetterLower(name[0]))
        {
            name = "job-" + name;
        }

        if (name.Length > MaxJobNameLength)
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];
            name = name[..(MaxJobNameLength - 13)].TrimEnd('-') + "-" + hash;
        }

        return name.TrimEnd('-');
    }

    /// <summary>
    /// Launches one attempt of a slot's job. With the identity the Dataflow client's launch is idempotent (a lost answer
    /// or a 409 for our own job returns that job); the caller wraps this in <c>EffectAsync</c> with
    /// <see cref="FindAsync"/> as the lookup, so a crash between launch and record never launches twice.
    /// </summary>
    public static async Task<Job> LaunchAsync(
        IDataflowClient client, SlotJob job, LaunchIdentity identity, string jobName, CancellationToken cancellationToken)
    {
        Job? launched;
        if (job.Template.Kind == TemplateKind.Flex)
        {
            var response = await client.LaunchFlexTemplateAsync(
                new LaunchFlexTemplateParameter
                {
                    JobName = jobName,
                    ContainerSpecGcsPath = job.Template.GcsPath,
                    Parameters = job.Parameters.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
                    Environment = Rollouts.JobLaunches.ToFlex(job.Environment),
                },
                identity,
                validateOnly: false,
                cancellationToken);
            launched = response.Job;
        }
        else
        {
            var response = await client.LaunchTemplateAsync(
                job.Template.GcsPath,
                new LaunchTemplateParameters
                {
                    JobName = jobName,
                    Parameters = job.Parameters.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
                    Environment = Rollouts.JobLaunches.ToClassic(job.Environment),
                },
                identity,
                validateOnly: false,
                cancellationToken);
            launched = response.Job;
        }

        return launched ?? throw new DataflowApiException(502, "UNKNOWN", null, $"The launch of job {jobName} answered without a job.");
    }

    /// <summary>The job an earlier (interrupted) launch of this attempt started, if any.</summary>
    public static Task<Job?> FindAsync(IDataflowClient client, LaunchIdentity identity, string jobName, CancellationToken cancellationToken) =>
        client.FindLaunchedJobAsync(identity, jobName, cancellationToken);

    /// <summary>The launch identity of one attempt of a slot run: labels that find the job again after a crash.</summary>
    public static LaunchIdentity IdentityFor(string dagId, long runId, int attempt) =>
        new(dagId, runId, "attempt-" + attempt.ToString(CultureInfo.InvariantCulture));
}
