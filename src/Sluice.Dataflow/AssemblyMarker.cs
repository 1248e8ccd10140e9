namespace Sluice.Dataflow;

internal static class AssemblyMarker
{
}
