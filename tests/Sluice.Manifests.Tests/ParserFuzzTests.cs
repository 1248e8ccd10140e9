using System.Diagnostics;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sluice.Manifests.Parsing;

namespace Sluice.Manifests.Tests;

/// <summary>
/// Arbitrary and mutated YAML/JSON never make the reader throw or hang: it returns problems with sane positions.
/// </summary>
public class ParserFuzzTests
{
    private static readonly string[] ExampleTexts =
        [.. Directory.GetFiles(TestPaths.Examples).Order(StringComparer.Ordinal).Select(File.ReadAllText)];

    private static readonly string[] ExampleJson =
        [.. ExampleTexts.Select(text => NodeJson.ToJson(ManifestReader.Parse(text, "x.yaml").Documents[0].Root!))];

    private const string Significant = ":{}[],-#&*!|>'\"%@`?\n\t  \\/.{{}}0123456789abcxyzé\u0000\uFEFF";

    private static Gen<string> Mutated(string[] sources) =>
        from source in Gen.Elements(sources)
        from count in Gen.Choose(1, 6)
        from edits in Gen.ListOf(Edit(), count)
        select edits.Aggregate(source, (text, edit) => edit(text));

    private static Gen<Func<string, string>> Edit() => Gen.OneOf(
        from position in Gen.Choose(0, 10_000)
        from length in Gen.Choose(1, 40)
        select (Func<string, string>)(text => text.Length == 0 ? text : text.Remove(position % text.Length, Math.Min(length, text.Length - (position % text.Length)))),
        from position in Gen.Choose(0, 10_000)
        from chars in Gen.ArrayOf(Gen.Elements(Significant.ToCharArray()), 3)
        select (Func<string, string>)(text => text.Insert(position % (text.Length + 1), new string(chars))),
        from line in Gen.Choose(0, 200)
        select (Func<string, string>)(text =>
        {
            var lines = text.Split('\n').ToList();
            var index = line % lines.Count;
            lines.Insert(index, lines[index]);
            return string.Join('\n', lines);
        }),
        from line in Gen.Choose(0, 200)
        select (Func<string, string>)(text =>
        {
            var lines = text.Split('\n');
            var index = line % lines.Length;
            lines[index] = "  " + lines[index];
            return string.Join('\n', lines);
        }),
        from cut in Gen.Choose(0, 10_000)
        select (Func<string, string>)(text => text[..(cut % (text.Length + 1))]));

    private static bool ReadsSafely(string text, string path)
    {
        var watch = Stopwatch.StartNew();
        var result = ManifestReader.Read(text, path);
        var lines = text.Split('\n').Length;
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"reading took {watch.Elapsed}");
        Assert.Equal(result.Problems.Count == 0, result.IsValid);
        Assert.True(result.Manifests.Count <= result.DocumentCount);
        Assert.All(result.Problems, problem =>
        {
            Assert.InRange(problem.Line, 1, lines + 1);
            Assert.True(problem.Column >= 1);
            Assert.False(string.IsNullOrWhiteSpace(problem.Message));
            Assert.DoesNotContain("internal error", problem.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", problem.Message, StringComparison.Ordinal);
        });
        return true;
    }

    [Property(MaxTest = 300)]
    public Property Mutated_YAML_never_throws() =>
        Prop.ForAll(Mutated(ExampleTexts).ToArbitrary(), text => ReadsSafely(text, "fuzz.yaml"));

    [Property(MaxTest = 200)]
    public Property Mutated_JSON_never_throws() =>
        Prop.ForAll(Mutated(ExampleJson).ToArbitrary(), text => ReadsSafely(text, "fuzz.json"));

    [Property(MaxTest = 300)]
    public Property Arbitrary_text_never_throws() =>
        Prop.ForAll(
            Gen.Elements("fuzz.yaml", "fuzz.json", "fuzz").SelectMany(path =>
                Gen.ArrayOf(Gen.Elements((Significant + "apiVersionkindmetadataspecRolloutSchedule").ToCharArray())).Select(chars => (path, new string(chars)))).ToArbitrary(),
            input => ReadsSafely(input.Item2, input.path));

    [Property(MaxTest = 100)]
    public Property Arbitrary_strings_never_throw(string? text) =>
        (text is null || ReadsSafely(text, "any.yaml")).ToProperty();

    // Found by the fuzz test: YamlDotNet's scanner throws InvalidOperationException on this input.
    [Fact]
    public void A_YAML_library_failure_is_reported_as_a_problem()
    {
        var problem = Assert.Single(ManifestReader.Read("a:\n  b: c\n  {@-  d: e\n", "crash.yaml").Problems);

        Assert.StartsWith("crash.yaml:3:", problem.ToString(), StringComparison.Ordinal);
        Assert.StartsWith("invalid YAML", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_alias_bomb_is_rejected_quickly()
    {
        var text = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (var level = 1; level < 12; level++)
        {
            text.Append(CultureInfo($"l{level}: &l{level} [")).Append(string.Join(", ", Enumerable.Repeat(level == 1 ? "*a" : $"*l{level - 1}", 10))).Append("]\n");
        }

        var watch = Stopwatch.StartNew();
        var result = ManifestReader.Read(text.ToString(), "bomb.yaml");

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
        var problem = Assert.Single(result.Problems);
        Assert.Contains("expands to more than 100000 values through aliases", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bomb.yaml")]
    [InlineData("bomb.json")]
    public void Deep_nesting_is_rejected_without_a_stack_overflow(string path)
    {
        var text = new string('[', 50_000) + new string(']', 50_000);

        var result = ManifestReader.Read(text, path);

        Assert.Contains(result.Problems, problem => problem.Message.Contains("nested more than 64 levels", StringComparison.Ordinal) || problem.Message.Contains("depth", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void A_file_over_one_MiB_is_rejected()
    {
        var text = "# " + new string('x', 1024 * 1024) + "\n";

        var problem = Assert.Single(ManifestReader.Read(text, "big.yaml").Problems);

        Assert.StartsWith("the text is larger than 1048576 bytes", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_and_unreadable_files_are_problems_not_exceptions()
    {
        var result = ManifestReader.ReadFile(Path.Combine(Path.GetTempPath(), "sluice-no-such-file.yaml"));

        var problem = Assert.Single(result.Problems);
        Assert.Equal("no such file", problem.Message);
    }

    [Fact]
    public void An_empty_file_says_it_holds_no_manifest()
    {
        var problem = Assert.Single(ManifestReader.Read("# only a comment\n", "empty.yaml").Problems);

        Assert.Equal("empty.yaml:1:1: error: the file holds no manifest; add a document with apiVersion, kind, metadata and spec", problem.ToString());
    }

    private static string CultureInfo(FormattableString text) => FormattableString.Invariant(text);
}
