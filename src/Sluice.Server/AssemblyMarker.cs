namespace Sluice.Server;

internal static class AssemblyMarker
{
}
