namespace Sluice.Manifests.Tests;

public class PlaceholderTests
{
}
