namespace Sluice.Buckets;

/// <summary>A bucket operation failed; the message says what and how to fix it.</summary>
public class BucketException : Exception
{
    public BucketException()
    {
    }

    public BucketException(string message)
        : base(message)
    {
    }

    public BucketException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public BucketException(string message, int? statusCode, bool isTransient, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        IsTransient = isTransient;
    }

    /// <summary>The HTTP status of a Cloud Storage error, if any.</summary>
    public int? StatusCode { get; }

    /// <summary>Whether trying again later may succeed (HTTP 408/429/5xx, network errors).</summary>
    public bool IsTransient { get; }
}
