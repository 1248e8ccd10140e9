namespace Sluice.Engine;

internal static class AssemblyMarker
{
}
