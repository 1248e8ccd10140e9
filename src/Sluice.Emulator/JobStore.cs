using System.Text.Json;
using System.Text.Json.Serialization;
using Sluice.Dataflow;

namespace Sluice.Emulator;

/// <summary>
/// The emulator's job table on disk, so that a restarted emulator still knows its jobs: <c>jobs.json</c> (written whole,
/// atomically, by temp file and rename) and one append-only <c>messages.jsonl</c> per job for messages and autoscaling events.
/// </summary>
internal sealed class JobStore
{
    private readonly string _directory;
    private readonly string _tableFile;
    private readonly Lock _writeLock = new();

    public JobStore(string directory)
    {
        _directory = directory;
        _tableFile = Path.Combine(directory, "jobs.json");
        Directory.CreateDirectory(Path.Combine(directory, "jobs"));
    }

    public string JobDirectory(string jobId) => Path.Combine(_directory, "jobs", jobId);

    public List<EmulatedJob> Load()
    {
        if (!File.Exists(_tableFile))
        {
            return [];
        }

        var table = JsonSerializer.Deserialize<StoredTable>(File.ReadAllText(_tableFile), DataflowJson.Options) ?? new StoredTable();
        foreach (var job in table.Jobs)
        {
            var log = Path.Combine(JobDirectory(job.Id), "messages.jsonl");
            if (!File.Exists(log))
            {
                continue;
            }

            foreach (var line in File.ReadLines(log))
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                StoredEntry? entry;
                try
                {
                    entry = JsonSerializer.Deserialize<StoredEntry>(line, DataflowJson.Options);
                }
                catch (JsonException)
                {
                    // A line torn by a crash mid-append: everything before it is intact.
                    break;
                }

                if (entry?.Message is { } message)
                {
                    job.Messages.Add(message);
                }
                else if (entry?.AutoscalingEvent is { } autoscalingEvent)
                {
                    job.AutoscalingEvents.Add(autoscalingEvent);
                }
            }
        }

        return table.Jobs;
    }

    /// <summary>Writes the whole table; callers pass a snapshot taken under the emulator's lock.</summary>
    public void Save(string tableJson)
    {
        lock (_writeLock)
        {
            Directory.CreateDirectory(_directory);
            var temp = _tableFile + ".tmp";
            File.WriteAllText(temp, tableJson);
            File.Move(temp, _tableFile, overwrite: true);
        }
    }

    public static string Serialize(IEnumerable<EmulatedJob> jobs) =>
        JsonSerializer.Serialize(new StoredTable { Jobs = jobs.ToList() }, DataflowJson.Options);

    public void Append(string jobId, JobMessage? message, AutoscalingEvent? autoscalingEvent)
    {
        var line = JsonSerializer.Serialize(new StoredEntry { Message = message, AutoscalingEvent = autoscalingEvent }, DataflowJson.Options);
        var directory = JobDirectory(jobId);
        lock (_writeLock)
        {
            Directory.CreateDirectory(directory);
            File.AppendAllText(Path.Combine(directory, "messages.jsonl"), line + "\n");
        }
    }

    private sealed class StoredTable
    {
        [JsonPropertyName("jobs")]
        public List<EmulatedJob> Jobs { get; set; } = [];
    }

    private sealed class StoredEntry
    {
        public JobMessage? Message { get; set; }

        public AutoscalingEvent? AutoscalingEvent { get; set; }
    }
}
