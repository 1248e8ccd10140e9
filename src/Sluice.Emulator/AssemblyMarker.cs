namespace Sluice.Emulator;

internal static class AssemblyMarker
{
}
