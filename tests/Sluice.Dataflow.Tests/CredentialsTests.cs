using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Sluice.Dataflow;

namespace Sluice.Dataflow.Tests;

public sealed class CredentialsTests
{
    [Fact]
    public async Task Application_default_credentials_from_a_service_account_key_sign_every_request()
    {
        string? grantType = null;
        await using var tokenServer = await LoopbackServer.StartAsync(async http =>
        {
            var form = await http.Request.ReadFormAsync();
            grantType = form["grant_type"];
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync("""{"access_token":"token-from-loopback","expires_in":3600,"token_type":"Bearer"}""");
        });
        string? authorization = null;
        await using var dataflow = await LoopbackServer.StartAsync(async http =>
        {
            authorization = http.Request.Headers.Authorization;
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync("""{"id":"j","currentState":"JOB_STATE_RUNNING"}""");
        });

        using var rsa = RSA.Create(2048);
        var keyFile = Path.Combine(Path.GetTempPath(), $"sluice-sa-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(keyFile, new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = "p",
            ["private_key_id"] = "k1",
            ["private_key"] = rsa.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = "sluice@p.iam.gserviceaccount.com",
            ["client_id"] = "1",
            ["token_uri"] = new Uri(tokenServer.BaseUri, "token").ToString(),
        }.ToJsonString());

        // ADC reads GOOGLE_APPLICATION_CREDENTIALS; no other test in this assembly uses ADC.
        var previous = System.Environment.GetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS");
        System.Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", keyFile);
        try
        {
            using var client = new DataflowClient(new DataflowClientOptions
            {
                Endpoint = dataflow.BaseUri,
                ProjectId = "p",
                Location = "us-central1",
                Credentials = DataflowCredentials.ApplicationDefault,
            });

            var job = await client.GetJobAsync("j");

            Assert.Equal(JobState.Running, job.State);
            Assert.Equal("Bearer token-from-loopback", authorization);
            Assert.Equal("urn:ietf:params:oauth:grant-type:jwt-bearer", grantType);
        }
        finally
        {
            System.Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", previous);
            File.Delete(keyFile);
        }
    }

    [Fact]
    public void Google_cloud_options_use_the_global_or_the_regional_endpoint_and_adc()
    {
        var global = DataflowClientOptions.ForGoogleCloud("p", "europe-west1");
        Assert.Equal(new Uri("https://dataflow.googleapis.com/"), global.Endpoint);
        Assert.Equal(DataflowCredentials.ApplicationDefault, global.Credentials);
        Assert.Equal("europe-west1", global.Location);

        var regional = DataflowClientOptions.ForGoogleCloud("p", "europe-west1", regionalEndpoint: true);
        Assert.Equal(new Uri("https://dataflow.europe-west1.rep.googleapis.com/"), regional.Endpoint);

        var emulator = DataflowClientOptions.ForEmulator(new Uri("http://127.0.0.1:8086"));
        Assert.Equal(DataflowCredentials.None, emulator.Credentials);
        Assert.Equal(new Uri("http://127.0.0.1:8086/"), emulator.Endpoint);
    }

    [Fact]
    public void Invalid_options_are_reported_all_at_once()
    {
        var problems = new DataflowClientOptions
        {
            Endpoint = new Uri("ftp://example.com/"),
            ProjectId = "",
            Location = " ",
            MaxRetryAttempts = -1,
        }.Validate();

        Assert.Equal(4, problems.Count);
        var error = Assert.Throws<ArgumentException>(() => new DataflowClient(new DataflowClientOptions { Endpoint = new Uri("http://x/"), ProjectId = "", Location = "l" }));
        Assert.Contains("ProjectId is empty", error.Message, StringComparison.Ordinal);
    }
}
