using System.CommandLine;

var root = new RootCommand("Sluice: manifest-driven controller for Dataflow jobs");
return await root.Parse(args).InvokeAsync();
