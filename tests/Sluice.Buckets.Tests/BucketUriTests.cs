namespace Sluice.Buckets.Tests;

public class BucketUriTests
{
    [Fact]
    public void A_file_uri_is_a_directory_bucket_named_after_the_directory()
    {
        var uri = BucketUri.Parse("file:///var/lib/sluice/rollouts/");

        Assert.Equal(BucketUriKind.Directory, uri.Kind);
        Assert.Equal("rollouts", uri.Bucket);
        Assert.Equal("", uri.Prefix);
        Assert.Equal("/var/lib/sluice/rollouts", uri.Directory);
        Assert.Equal("/var/lib/sluice/rollouts", uri.ResolveDirectory(null));
        Assert.True(uri.IsLocal);
        Assert.Equal("file:///var/lib/sluice/rollouts", uri.ToString());
    }

    [Fact]
    public void A_bare_name_is_a_bucket_in_the_data_dir_buckets_directory()
    {
        var uri = BucketUri.Parse("sluice-rollouts");

        Assert.Equal(BucketUriKind.DataDirBucket, uri.Kind);
        Assert.Equal("sluice-rollouts", uri.Bucket);
        Assert.Equal(Path.Combine("/data/buckets", "sluice-rollouts"), uri.ResolveDirectory("/data/buckets"));
        Assert.Equal("sluice-rollouts", uri.ToString());
    }

    [Fact]
    public void A_bare_name_can_carry_a_prefix_like_a_gs_uri()
    {
        var uri = BucketUri.Parse("sluice-examples/templates/");

        Assert.Equal("sluice-examples", uri.Bucket);
        Assert.Equal("templates/", uri.Prefix);
        Assert.True(uri.Covers("sluice-examples", "templates/wordcount.json"));
        Assert.False(uri.Covers("sluice-examples", "rollouts/a.yaml"));
        Assert.False(uri.Covers("other", "templates/wordcount.json"));
    }

    [Fact]
    public void A_bare_name_without_a_buckets_directory_says_how_to_fix_it()
    {
        var error = Assert.Throws<InvalidOperationException>(() => BucketUri.Parse("rollouts").ResolveDirectory(null));

        Assert.Contains("BucketsDirectory", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gs://acme-manifests/rollouts/", "acme-manifests", "rollouts/")]
    [InlineData("gs://acme-manifests", "acme-manifests", "")]
    [InlineData("gs://acme.example.com/a/b", "acme.example.com", "a/b")]
    public void A_gs_uri_names_bucket_and_prefix(string text, string bucket, string prefix)
    {
        var uri = BucketUri.Parse(text);

        Assert.Equal(BucketUriKind.Gcs, uri.Kind);
        Assert.Equal(bucket, uri.Bucket);
        Assert.Equal(prefix, uri.Prefix);
        Assert.False(uri.IsLocal);
        Assert.Equal(text, uri.ToString());
        Assert.Equal(uri, BucketUri.Parse(uri.ToString()));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("gs://Acme_Bucket/x", "lowercase")]
    [InlineData("gs://ab", "3 to 63")]
    [InlineData("s3://bucket/x", "unknown scheme")]
    [InlineData("file://host/dir", "three slashes")]
    [InlineData("Rollouts", "file:///ABSOLUTE/DIR")]
    [InlineData("gs://acme/a//b", "empty, '.' or '..'")]
    [InlineData("acme/../etc", "empty, '.' or '..'")]
    public void Bad_uris_are_refused_with_one_clear_sentence(string text, string hint)
    {
        Assert.False(BucketUri.TryParse(text, out _, out var error));
        Assert.Contains(hint, error, StringComparison.Ordinal);
        var thrown = Assert.Throws<FormatException>(() => BucketUri.Parse(text));
        Assert.Equal(error, thrown.Message);
    }
}
