namespace Sluice.Engine;

/// <summary>The state store cannot be used as configured; the message says what is wrong and how to fix it.</summary>
public class StateStoreException : Exception
{
    public StateStoreException()
    {
    }

    public StateStoreException(string message)
        : base(message)
    {
    }

    public StateStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The store holds a schema newer than this build of Sluice understands.</summary>
public sealed class SchemaTooNewException : StateStoreException
{
    public SchemaTooNewException(string module, int storedVersion, int knownVersion, string store)
        : base($"The state store {store} has schema version {storedVersion} for '{module}', but this Sluice knows only up to " +
               $"version {knownVersion}; upgrade Sluice to the version that wrote this store, or point --store at another store.")
    {
        Module = module;
        StoredVersion = storedVersion;
        KnownVersion = knownVersion;
    }

    public SchemaTooNewException()
    {
        Module = "";
    }

    public SchemaTooNewException(string message)
        : base(message)
    {
        Module = "";
    }

    public SchemaTooNewException(string message, Exception innerException)
        : base(message, innerException)
    {
        Module = "";
    }

    public string Module { get; }

    public int StoredVersion { get; }

    public int KnownVersion { get; }
}
