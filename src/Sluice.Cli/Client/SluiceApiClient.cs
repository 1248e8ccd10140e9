using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Sluice.Server.Api;

namespace Sluice.Cli.Client;

/// <summary>
/// Typed client of the Sluice REST API (docs/api.md). Every failure becomes a <see cref="SluiceApiException"/> whose
/// message is one sentence for the user.
/// </summary>
public sealed partial class SluiceApiClient : IDisposable
{
    private readonly HttpClient _http;

    public SluiceApiClient(Uri server, string? token, HttpMessageHandler? handler = null)
    {
        Server = server;
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = new Uri(server.ToString().TrimEnd('/') + "/");
        _http.Timeout = Timeout.InfiniteTimeSpan;
        if (!string.IsNullOrEmpty(token))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("sluice-cli", "1"));
    }

    public Uri Server { get; }

    /// <summary>Timeout of one ordinary call (not of streams or waits).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public Task<ServerInfo> GetInfoAsync(CancellationToken cancellationToken) =>
        GetAsync<ServerInfo>("v1/info", cancellationToken);

    public async Task<IReadOnlyList<TokenResource>> ListTokensAsync(bool includeRevoked, CancellationToken cancellationToken) =>
        (await GetAsync<ListResponse<TokenResource>>(includeRevoked ? "v1/tokens?all=true" : "v1/tokens", cancellationToken)).Items;

    public Task<CreatedTokenResource> CreateTokenAsync(string? name, string role, CancellationToken cancellationToken) =>
        SendAsync<CreatedTokenResource>(HttpMethod.Post, "v1/tokens", new CreateTokenRequest(name, role), cancellationToken);

    public Task<TokenResource> RevokeTokenAsync(string id, CancellationToken cancellationToken) =>
        SendAsync<TokenResource>(HttpMethod.Delete, $"v1/tokens/{Uri.EscapeDataString(id)}", null, cancellationToken);

    /// <summary>GET a JSON resource.</summary>
    public Task<T> GetAsync<T>(string path, CancellationToken cancellationToken) =>
        SendAsync<T>(HttpMethod.Get, path, null, cancellationToken);

    /// <summary>GET the raw JSON of a resource (for <c>-o json</c> of resources the CLI shows as they are).</summary>
    public Task<JsonElement> GetJsonAsync(string path, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Get, path, null, cancellationToken);

    /// <summary>Sends a request with an optional JSON body and reads a JSON answer.</summary>
    public async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CallTimeout);
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: SluiceJson.Options);
        }

        using var response = await SendRawAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token, cancellationToken);
        try
        {
            return (await response.Content.ReadFromJsonAsync<T>(SluiceJson.Options, timeout.Token))!;
        }
        catch (JsonException e)
        {
            throw new SluiceApiException(response.StatusCode, $"The server at {Server} answered {path} with something that is not the expected JSON ({e.Message}); is it a Sluice server of the same version?");
        }
    }

    /// <summary>Opens a streaming response (server-sent events, logs); the caller disposes it.</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return await SendRawAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken timeout, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, timeout);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException || e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            throw new SluiceApiException(null, $"Cannot reach the Sluice server at {Server}; start it with 'sluice up' or pass --server (or SLUICE_SERVER).", null, e);
        }
        catch (HttpRequestException e)
        {
            throw new SluiceApiException(null, $"The call to the Sluice server at {Server} failed ({e.Message}); check --server and that the server is running.", null, e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SluiceApiException(null, $"The Sluice server at {Server} did not answer within {CallTimeout.TotalSeconds:0}s; check that it is healthy ({Server}healthz).", null, e);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await ToExceptionAsync(response, cancellationToken);
        }
    }

    private async Task<SluiceApiException> ToExceptionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string? detail = null;
        var problems = new List<string>();
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (text.Length > 0 && text.TrimStart().StartsWith('{'))
            {
                using var document = JsonDocument.Parse(text);
                var root = document.RootElement;
                detail = root.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()
                    : root.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                    : null;
                if (root.TryGetProperty("problems", out var list) && list.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in list.EnumerateArray())
                    {
                        var problem = item.Deserialize<ManifestProblemResource>(SluiceJson.Options);
                        if (problem is not null)
                        {
                            problems.Add(problem.ToString());
                        }
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's error page); the status line below still says what happened.
        }

        detail ??= response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => "The server refused the token; pass a valid one with --token or SLUICE_TOKEN (the first admin token is in .sluice/admin.token).",
            HttpStatusCode.Forbidden => "The token's role may not do this; use an operator or admin token.",
            HttpStatusCode.NotFound => $"The server at {Server} has no {response.RequestMessage?.RequestUri?.AbsolutePath}; is it a Sluice server of the same version?",
            _ => $"The server answered {(int)response.StatusCode} {response.ReasonPhrase}.",
        };
        if (response.StatusCode == HttpStatusCode.Unauthorized && !detail.Contains("--token", StringComparison.Ordinal))
        {
            detail += " Pass a valid token with --token or SLUICE_TOKEN.";
        }

        return new SluiceApiException(response.StatusCode, detail, problems);
    }

    public void Dispose() => _http.Dispose();
}
