using Sluice.Bench;

// One subcommand per benchmark, each in its own file; results go to docs/benchmarks.md.
return args.FirstOrDefault() switch
{
    "buckets" => await BucketsBench.RunAsync(args[1..]),
    "engine" => await EngineBench.RunAsync(args[1..]),
    "emulator" => await EmulatorBench.RunAsync(args[1..]),
    "schedules" => await SchedulesBench.RunAsync(args[1..]),
    "intake" => await IntakeBench.RunAsync(args[1..]),
    "rollout" => await RolloutBench.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    const string Run = "dotnet run --project bench/Sluice.Bench -c Release --";
    Console.Error.WriteLine($"usage: {Run} buckets [--count N]");
    Console.Error.WriteLine($"       {Run} engine --store sqlite|postgres");
    Console.Error.WriteLine($"       {Run} emulator [--count N] [--concurrent N]");
    Console.Error.WriteLine($"       {Run} schedules [--schedules N] [--burst N] [--idle-seconds N] [--skip-quartz]");
    Console.Error.WriteLine($"       {Run} intake [--count N] [--store sqlite|postgres]");
    Console.Error.WriteLine($"       {Run} rollout [--count N] [--warmup N] [--store sqlite|postgres]");
    return 2;
}
