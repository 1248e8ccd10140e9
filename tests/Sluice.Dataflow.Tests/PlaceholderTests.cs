namespace Sluice.Dataflow.Tests;

public class PlaceholderTests
{
}
