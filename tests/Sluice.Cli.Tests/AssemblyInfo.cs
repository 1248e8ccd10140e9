// The product runs on Linux (and the tests use Unix file modes and signals).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
