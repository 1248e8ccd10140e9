namespace Sluice.Buckets.Tests;

/// <summary>The Cloud Storage emulator that scripts/test starts (scripts/gcs-emulator.sh).</summary>
internal static class GcsEmulator
{
    public static Uri Endpoint
    {
        get
        {
            var value = Environment.GetEnvironmentVariable("SLUICE_TEST_GCS_EMULATOR");
            if (string.IsNullOrWhiteSpace(value))
            {
                Assert.Fail("SLUICE_TEST_GCS_EMULATOR is not set: run scripts/test, or `source scripts/gcs-emulator.sh; start_gcs_emulator` first (it installs and starts the Cloud Storage emulator).");
            }
            return new Uri(value);
        }
    }

    /// <summary>A bucket of its own for each test; the emulator creates buckets on first use.</summary>
    public static string NewBucketName() => "sluice-test-" + Guid.NewGuid().ToString("N")[..12];
}
