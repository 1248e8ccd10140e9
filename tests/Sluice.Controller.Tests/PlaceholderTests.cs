namespace Sluice.Controller.Tests;

public class PlaceholderTests
{
}
