using Sluice.ExampleJobs;

// sluice-example-jobs JOB [--name=value …]: the example Dataflow jobs that the local emulator runs as processes.
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: sluice-example-jobs wordcount|streaming-counter [--name=value …] (see docs/emulator.md)");
    return args.Length == 0 ? 2 : 0;
}

JobArguments arguments;
try
{
    arguments = JobArguments.Parse(args.Skip(1));
}
catch (JobArgumentException ex)
{
    Console.Error.WriteLine($"ERROR: {ex.Message}");
    return 2;
}

try
{
    return args[0] switch
    {
        "wordcount" => await WordCount.RunAsync(arguments),
        "streaming-counter" => await StreamingCounter.RunAsync(arguments),
        _ => Unknown(args[0]),
    };
}
catch (JobArgumentException ex)
{
    Console.Error.WriteLine($"ERROR: {ex.Message}");
    return 2;
}

static int Unknown(string job)
{
    Console.Error.WriteLine($"ERROR: unknown job '{job}'; the example jobs are wordcount and streaming-counter.");
    return 2;
}
