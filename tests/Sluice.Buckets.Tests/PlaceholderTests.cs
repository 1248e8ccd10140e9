namespace Sluice.Buckets.Tests;

public class PlaceholderTests
{
}
