using Microsoft.AspNetCore.Http;
using Sluice.Server.Auth;

namespace Sluice.Server.Ui;

/// <summary>One link of the UI's navigation bar.</summary>
public sealed record UiNavigationItem(string Title, string Path, int Order, SluiceRole MinimumRole);

/// <summary>The navigation bar; modules add their pages (order: lower comes first; the overview is 0, tokens 1000).</summary>
public sealed class UiNavigation
{
    private readonly List<UiNavigationItem> _items = [];
    private readonly Lock _lock = new();

    public void Add(string title, string path, int order = 100, SluiceRole minimumRole = SluiceRole.Viewer)
    {
        lock (_lock)
        {
            _items.Add(new UiNavigationItem(title, path, order, minimumRole));
        }
    }

    public IReadOnlyList<UiNavigationItem> Items
    {
        get
        {
            lock (_lock)
            {
                return _items.OrderBy(i => i.Order).ThenBy(i => i.Title, StringComparer.Ordinal).ToArray();
            }
        }
    }
}

/// <summary>A card of the overview page: a title and a renderer of its HTML body, refreshed live.</summary>
public sealed record UiOverviewSection(string Id, string Title, int Order, Func<HttpContext, CancellationToken, Task<string>> Render);

/// <summary>The overview page's cards; modules add a summary of their flow.</summary>
public sealed class UiOverview
{
    private readonly List<UiOverviewSection> _sections = [];
    private readonly Lock _lock = new();

    /// <param name="id">Stable identifier used in the fragment URL (letters, digits, '-').</param>
    /// <param name="title">Card title.</param>
    /// <param name="render">Renders the card body (HTML; encode user data with <see cref="Html.Encode"/>).</param>
    /// <param name="order">Lower comes first.</param>
    public void Add(string id, string title, Func<HttpContext, CancellationToken, Task<string>> render, int order = 100)
    {
        lock (_lock)
        {
            if (_sections.Any(s => s.Id == id))
            {
                throw new InvalidOperationException($"An overview section with id '{id}' is already registered.");
            }

            _sections.Add(new UiOverviewSection(id, title, order, render));
        }
    }

    public IReadOnlyList<UiOverviewSection> Sections
    {
        get
        {
            lock (_lock)
            {
                return _sections.OrderBy(s => s.Order).ThenBy(s => s.Title, StringComparer.Ordinal).ToArray();
            }
        }
    }
}
