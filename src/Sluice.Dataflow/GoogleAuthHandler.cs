using System.Net.Http.Headers;
using Google.Apis.Auth.OAuth2;

namespace Sluice.Dataflow;

/// <summary>Adds an OAuth access token from Application Default Credentials (or a given credential) to each request.</summary>
internal sealed class GoogleAuthHandler : DelegatingHandler
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private GoogleCredential? _credential;

    public GoogleAuthHandler(GoogleCredential? credential)
    {
        _credential = credential?.CreateScoped(DataflowClientOptions.CloudPlatformScope);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var credential = await GetCredentialAsync(cancellationToken);
        var token = await ((ITokenAccess)credential).GetAccessTokenForRequestAsync(request.RequestUri?.ToString(), cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await base.SendAsync(request, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _gate.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task<GoogleCredential> GetCredentialAsync(CancellationToken cancellationToken)
    {
        if (_credential is not null)
        {
            return _credential;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_credential is null)
            {
                GoogleCredential found;
                try
                {
                    found = await GoogleCredential.GetApplicationDefaultAsync(cancellationToken);
                }
                catch (InvalidOperationException ex)
                {
                    throw new DataflowApiException(401, "UNAUTHENTICATED", null,
                        "No Google Cloud credentials found; run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file.",
                        null, ex);
                }

                _credential = found.CreateScoped(DataflowClientOptions.CloudPlatformScope);
            }

            return _credential;
        }
        finally
        {
            _gate.Release();
        }
    }
}
