using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Server.Auth;

namespace Sluice.Server.Ui;

/// <summary>The page frame of the UI: navigation, the signed-in role, styles and the live-update script.</summary>
public static class UiLayout
{
    /// <summary>A full page with the navigation bar around <paramref name="bodyHtml"/>.</summary>
    public static IResult Page(string title, string bodyHtml, int statusCode = StatusCodes.Status200OK) => new UiPageResult(title, bodyHtml, statusCode);

    /// <summary>The inner HTML of a live region (see <see cref="Html.Live"/>).</summary>
    public static IResult Fragment(string html) => Results.Content(html, "text/html; charset=utf-8");

    /// <summary>A page without navigation (login).</summary>
    public static IResult Bare(string title, string bodyHtml, int statusCode = StatusCodes.Status200OK) =>
        Results.Content(Document(title, "", bodyHtml), "text/html; charset=utf-8", Encoding.UTF8, statusCode);

    internal static string Document(string title, string headerHtml, string bodyHtml) => $$"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{Html.Encode(title)}} · Sluice</title>
        <style>{{Styles}}</style>
        </head>
        <body>
        {{headerHtml}}
        <main>
        <h1>{{Html.Encode(title)}}</h1>
        {{bodyHtml}}
        </main>
        <script>{{Script}}</script>
        </body>
        </html>
        """;

    private sealed class UiPageResult(string title, string bodyHtml, int statusCode) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var navigation = httpContext.RequestServices.GetRequiredService<UiNavigation>();
            var role = httpContext.User.GetSluiceRole();
            var path = httpContext.Request.Path.Value ?? "";
            var links = new StringBuilder();
            foreach (var item in navigation.Items.Where(i => role >= i.MinimumRole))
            {
                var current = item.Path == "/ui" ? path is "/ui" or "/ui/" : path.StartsWith(item.Path, StringComparison.Ordinal);
                links.Append(CultureInfoInvariant($"<a href=\"{Html.Encode(item.Path)}\"{(current ? " class=\"current\" aria-current=\"page\"" : "")}>{Html.Encode(item.Title)}</a>"));
            }

            var who = role is { } r
                ? $"<span class=\"who\" title=\"{Html.Encode(httpContext.User.Identity?.Name)}\">{Html.Encode(r.ToName())}</span>"
                  + "<form method=\"post\" action=\"/ui/logout\" class=\"inline\"><button type=\"submit\" class=\"link\">Sign out</button></form>"
                : "";
            var header = $"<header><a class=\"brand\" href=\"/ui\">Sluice</a><nav>{links}</nav><div class=\"session\">{who}</div></header>";
            httpContext.Response.StatusCode = statusCode;
            httpContext.Response.ContentType = "text/html; charset=utf-8";
            httpContext.Response.Headers.CacheControl = "no-store";
            await httpContext.Response.WriteAsync(Document(title, header, bodyHtml), httpContext.RequestAborted);
        }

        private static string CultureInfoInvariant(FormattableString text) => FormattableString.Invariant(text);
    }

    private const string Styles = """
        :root { --fg:#1d2430; --muted:#5b6675; --line:#dde2e8; --bg:#f6f8fa; --accent:#0b62c4; --ok:#1a7f37; --bad:#c62828; --busy:#9a6700; --idle:#6e7781; }
        * { box-sizing: border-box; }
        body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
        header { display:flex; align-items:center; gap:1.5rem; padding:.6rem 1.2rem; background:#fff; border-bottom:1px solid var(--line); }
        header nav { display:flex; gap:1rem; flex:1; flex-wrap:wrap; }
        header nav a { color:var(--fg); text-decoration:none; padding:.2rem 0; }
        header nav a.current { border-bottom:2px solid var(--accent); font-weight:600; }
        .brand { font-weight:700; color:var(--accent); text-decoration:none; font-size:1.1rem; }
        .session { display:flex; gap:.6rem; align-items:center; color:var(--muted); }
        main { padding:1rem 1.2rem 3rem; max-width:1400px; }
        h1 { font-size:1.35rem; margin:.4rem 0 1rem; }
        h2 { font-size:1.1rem; margin:1.5rem 0 .5rem; }
        a { color:var(--accent); }
        table { border-collapse:collapse; width:100%; background:#fff; border:1px solid var(--line); }
        th, td { text-align:left; padding:.4rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; }
        th { background:#fafbfc; font-weight:600; color:var(--muted); }
        .cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(320px, 1fr)); gap:1rem; }
        .card { background:#fff; border:1px solid var(--line); border-radius:6px; padding:.8rem 1rem; }
        .card h2 { margin-top:0; }
        .state { display:inline-block; padding:0 .45rem; border-radius:9px; font-size:.85em; font-weight:600; color:#fff; background:var(--idle); white-space:nowrap; }
        .state-ok { background:var(--ok); } .state-bad { background:var(--bad); } .state-busy { background:var(--busy); } .state-idle { background:var(--idle); } .state-other { background:#8250df; }
        .facts { display:grid; grid-template-columns:max-content 1fr; gap:.25rem 1rem; margin:0; }
        .facts dt { color:var(--muted); }
        .facts dd { margin:0; }
        .empty { color:var(--muted); font-style:italic; }
        .inline { display:inline; margin:0; }
        button { font:inherit; padding:.3rem .8rem; border:1px solid var(--line); border-radius:5px; background:#fff; cursor:pointer; }
        button.primary { background:var(--accent); color:#fff; border-color:var(--accent); }
        button.danger { color:var(--bad); border-color:var(--bad); }
        button.link { border:none; background:none; color:var(--accent); padding:0; }
        input, select { font:inherit; padding:.3rem .5rem; border:1px solid var(--line); border-radius:5px; }
        .error { color:var(--bad); }
        .notice { background:#fff8c5; border:1px solid #d4a72c; padding:.6rem .8rem; border-radius:6px; }
        code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size:.9em; }
        pre { background:#fff; border:1px solid var(--line); padding:.6rem; overflow:auto; max-height:30rem; }
        .muted { color:var(--muted); font-size:.9em; }
        .timeline { list-style:none; padding:0; margin:0; background:#fff; border:1px solid var(--line); border-radius:6px; }
        .timeline .step { padding:.5rem .8rem; border-bottom:1px solid var(--line); }
        .timeline .step:last-child { border-bottom:none; }
        .step-head { display:flex; gap:.6rem; align-items:baseline; flex-wrap:wrap; }
        .bar { height:6px; background:#eef1f4; border-radius:3px; margin:.35rem 0 .2rem; }
        .bar span { display:block; height:6px; border-radius:3px; }
        .bar .state-ok { background:var(--ok); } .bar .state-bad { background:var(--bad); } .bar .state-busy { background:var(--busy); } .bar .state-idle, .bar .state-other { background:var(--idle); }
        .reason { color:var(--bad); }
        .logs { max-height:24rem; }
        .login { max-width:28rem; margin:4rem auto; background:#fff; border:1px solid var(--line); border-radius:8px; padding:1.5rem; }
        .login input { width:100%; margin:.5rem 0 1rem; }
        """;

    // Live regions: fetch each [data-live] URL every 2 seconds while the page is visible and swap in changed HTML.
    private const string Script = """
        (function () {
          const regions = () => Array.from(document.querySelectorAll('[data-live]'));
          async function refresh() {
            if (document.hidden) return;
            for (const el of regions()) {
              try {
                const res = await fetch(el.dataset.live, { headers: { 'X-Sluice-Fragment': '1' }, credentials: 'same-origin' });
                if (res.redirected || res.status === 401) { location.reload(); return; }
                if (!res.ok) continue;
                const html = await res.text();
                if (html !== el.innerHTML) { el.innerHTML = html; el.dispatchEvent(new CustomEvent('sluice:updated', { bubbles: true })); }
              } catch (e) { /* the server may be restarting; try again on the next tick */ }
            }
          }
          if (regions().length > 0) setInterval(refresh, 2000);
        })();
        """;
}
