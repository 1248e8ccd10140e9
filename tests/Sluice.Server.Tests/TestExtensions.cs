using Microsoft.Extensions.DependencyInjection;
using Sluice.Server.Metrics;

namespace Sluice.Server.Tests;

internal static class TestExtensions
{
    public static SluiceMetrics GetMetrics(this IServiceProvider services) => services.GetRequiredService<SluiceMetrics>();
}
