namespace Sluice.Engine.Tests;

public class PlaceholderTests
{
}
