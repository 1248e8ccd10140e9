namespace Sluice.Cli.Tests;

public class PlaceholderTests
{
}
