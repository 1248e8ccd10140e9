using System.Runtime.InteropServices;

namespace Sluice.Buckets.Local;

/// <summary>
/// What identifies one version of a local file: modification time (µs), size and inode. The generation is
/// <c>mtime_µs × 1000 + (hash of inode, size and the sub-µs part of mtime) mod 1000</c>: ordered by time, and
/// different for a replacement file with the same time stamp.
/// </summary>
internal readonly record struct FileStamp(long Size, long ModifiedNanoseconds, ulong Inode)
{
    public long ModifiedMicroseconds => ModifiedNanoseconds / 1000;

    public DateTimeOffset Modified => DateTimeOffset.UnixEpoch.AddTicks(ModifiedNanoseconds / 100);

    public long Generation
    {
        get
        {
            var mix = Inode * 0x9E3779B97F4A7C15UL;
            mix ^= (ulong)Size * 0xC2B2AE3D27D4EB4FUL;
            mix ^= (ulong)(ModifiedNanoseconds % 1000) * 0x165667B19E3779F9UL;
            mix ^= mix >> 29;
            return (ModifiedMicroseconds * 1000) + (long)(mix % 1000);
        }
    }

    /// <summary>The stamp of a regular file, or null when there is none at that path.</summary>
    public static FileStamp? Read(string path)
    {
        if (NativeStat.TryStat(path, out var stamp, out var missing))
        {
            return stamp;
        }
        if (missing)
        {
            return null;
        }
        // Not Linux (or no statx): the modification time to 100 ns and the size; no inode.
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return null;
        }
        var nanoseconds = (info.LastWriteTimeUtc.Ticks - DateTime.UnixEpoch.Ticks) * 100;
        return new FileStamp(info.Length, nanoseconds, 0);
    }
}

/// <summary>statx(2) and directory fsync on Linux; the rest of .NET's file API exposes neither the inode nor ns times.</summary>
internal static partial class NativeStat
{
    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;
    private const int Enoent = 2;
    private const int Enotdir = 20;
    private const ushort FileTypeMask = 0xF000;
    private const ushort RegularFile = 0x8000;

    private static volatile bool unavailable = !OperatingSystem.IsLinux();

    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct Statx
    {
        [FieldOffset(28)]
        public ushort Mode;

        [FieldOffset(32)]
        public ulong Inode;

        [FieldOffset(40)]
        public ulong Size;

        [FieldOffset(112)]
        public long MtimeSeconds;

        [FieldOffset(120)]
        public uint MtimeNanoseconds;
    }

    public static bool TryStat(string path, out FileStamp stamp, out bool missing)
    {
        stamp = default;
        missing = false;
        if (unavailable)
        {
            return false;
        }
        try
        {
            if (StatxNative(AtFdCwd, path, 0, StatxBasicStats, out var buffer) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                missing = errno is Enoent or Enotdir;
                return false;
            }
            if ((buffer.Mode & FileTypeMask) != RegularFile)
            {
                missing = true;
                return false;
            }
            stamp = new FileStamp((long)buffer.Size, (buffer.MtimeSeconds * 1_000_000_000) + buffer.MtimeNanoseconds, buffer.Inode);
            return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            unavailable = true;
            return false;
        }
    }

    /// <summary>Makes a rename in <paramref name="directory"/> durable; a no-op where the platform cannot.</summary>
    public static void SyncDirectory(string directory)
    {
        if (unavailable)
        {
            return;
        }
        try
        {
            var fd = OpenNative(directory, 0);
            if (fd < 0)
            {
                return;
            }
            _ = FsyncNative(fd);
            _ = CloseNative(fd);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            unavailable = true;
        }
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatxNative(int directoryFd, string path, int flags, uint mask, out Statx buffer);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncNative(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseNative(int fd);
}
