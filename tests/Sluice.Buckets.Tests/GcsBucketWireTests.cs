using System.Net;
using System.Text;
using Google.Apis.Auth.OAuth2;

namespace Sluice.Buckets.Tests;

/// <summary>What only live Cloud Storage does (credentials, faults, preconditions), against its documented wire format.</summary>
public sealed class GcsBucketWireTests : IDisposable
{
    private readonly FakeGoogleStorage google = new();
    private readonly IBucket bucket;

    public GcsBucketWireTests()
    {
        bucket = BucketFactory.Open("gs://acme/rollouts/", new BucketOptions
        {
            Credential = GoogleCredential.FromAccessToken("ya29.test-token"),
            HttpHandler = google,
            MaxAttempts = 3,
        });
    }

    public void Dispose()
    {
        bucket.Dispose();
        google.Dispose();
    }

    [Fact]
    public async Task Requests_go_to_google_with_the_credential_and_list_live_versions_by_prefix()
    {
        await bucket.WriteAsync("rollouts/a.yaml", Encoding.UTF8.GetBytes("a"), default);

        var listed = await bucket.ListAsync(default);

        Assert.Equal(["rollouts/a.yaml"], listed.Select(o => o.Name));
        Assert.All(google.Requests, r => Assert.Equal("Bearer ya29.test-token", r.Headers.Authorization?.ToString()));
        Assert.All(google.Requests, r => Assert.Equal("storage.googleapis.com", r.RequestUri!.Host));
        var list = google.Requests[^1].RequestUri!;
        Assert.Equal("/storage/v1/b/acme/o", list.AbsolutePath);
        Assert.Contains("versions=false", list.Query, StringComparison.Ordinal);
        Assert.Contains("prefix=rollouts%2F", list.Query, StringComparison.Ordinal);
        var upload = google.Requests.Single(r => r.Method == HttpMethod.Post).RequestUri!;
        Assert.Equal("/upload/storage/v1/b/acme/o", upload.AbsolutePath);
        Assert.Contains("uploadType=media", upload.Query, StringComparison.Ordinal);
        Assert.Contains("ifGenerationMatch=0", upload.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transient_errors_are_retried()
    {
        google.Faults.Enqueue(HttpStatusCode.ServiceUnavailable);
        google.Faults.Enqueue(HttpStatusCode.TooManyRequests);

        Assert.Empty(await bucket.ListAsync(default));
        Assert.Equal(3, google.Requests.Count);
    }

    [Fact]
    public async Task Access_denied_is_permanent_and_says_which_role_to_grant()
    {
        google.Faults.Enqueue(HttpStatusCode.Forbidden);

        var error = await Assert.ThrowsAsync<BucketException>(() => bucket.ListAsync(default));

        Assert.False(error.IsTransient);
        Assert.Equal(403, error.StatusCode);
        Assert.Contains("roles/storage.objectViewer", error.Message, StringComparison.Ordinal);
        Assert.Contains("storage.objects.list", error.Message, StringComparison.Ordinal);
        Assert.Single(google.Requests);
    }

    [Fact]
    public async Task An_upload_whose_answer_was_lost_is_not_uploaded_twice()
    {
        google.LoseNextUploadAnswer = true;

        var generation = await bucket.WriteAsync("rollouts/a.yaml", Encoding.UTF8.GetBytes("once"), default);

        Assert.Equal(1, google.Uploads);
        var stat = await bucket.StatAsync("rollouts/a.yaml", default);
        Assert.Equal(generation, stat!.Generation);
    }

    [Fact]
    public async Task An_answer_that_is_not_json_is_reported_clearly()
    {
        google.RawAnswer = "<html>proxy login</html>";

        var error = await Assert.ThrowsAsync<BucketException>(() => bucket.ListAsync(default));

        Assert.Contains("not JSON", error.Message, StringComparison.Ordinal);
    }
}
