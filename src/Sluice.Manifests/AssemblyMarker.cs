namespace Sluice.Manifests;

internal static class AssemblyMarker
{
}
