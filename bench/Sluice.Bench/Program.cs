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
    Console.Error.WriteLine("usage: dotnet run --project bench/Sluice.Bench -c Release -- buckets [--count N]");
    Console.Error.WriteLine("       dotnet run --project bench/Sluice.Bench -c Release -- engine --store sqlite|postgres");
    Console.Error.WriteLine("       dotnet run --project bench/Sluice.Bench -c Release -- intake [--count N] [--store sqlite|postgres]");
    return 2;
}
