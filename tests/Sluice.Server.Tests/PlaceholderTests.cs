namespace Sluice.Server.Tests;

public class PlaceholderTests
{
}
