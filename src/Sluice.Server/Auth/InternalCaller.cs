using System.Security.Cryptography;
using System.Text;

namespace Sluice.Server.Auth;

/// <summary>
/// A secret that lives only in this process's memory, for calls the server makes to itself (the Dataflow client to
/// the embedded emulator), so that those endpoints can stay behind authentication like everything else.
/// </summary>
public sealed class InternalCaller
{
    public const string Name = "sluice (internal)";

    private readonly byte[] _secretBytes;

    public InternalCaller()
    {
        Secret = "internal_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        _secretBytes = Encoding.UTF8.GetBytes(Secret);
    }

    public string Secret { get; }

    public bool Matches(string presented) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _secretBytes);
}
