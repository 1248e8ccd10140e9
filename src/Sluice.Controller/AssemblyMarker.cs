namespace Sluice.Controller;

internal static class AssemblyMarker
{
}
