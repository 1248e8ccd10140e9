namespace Sluice.Buckets;

internal static class AssemblyMarker
{
}
