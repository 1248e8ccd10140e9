using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sluice.Manifests.Parsing;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Sluice.Manifests.Rendering;

/// <summary>Writes JSON values as block-style YAML that reads back to the same values (strings that look like numbers stay quoted).</summary>
public static class YamlWriter
{
    public static string Write(IEnumerable<JsonNode?> documents)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        var emitter = new Emitter(text);
        emitter.Emit(new StreamStart());
        foreach (var document in documents)
        {
            emitter.Emit(new DocumentStart(null, null, isImplicit: false));
            Emit(emitter, document);
            emitter.Emit(new DocumentEnd(isImplicit: true));
        }

        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    public static string Write(JsonNode? document) => Write([document]);

    private static void Emit(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case null:
                emitter.Emit(new Scalar(null, null, "null", ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));
                break;
            case JsonObject obj:
                emitter.Emit(new MappingStart(null, null, isImplicit: true, MappingStyle.Block));
                foreach (var (key, value) in obj)
                {
                    EmitString(emitter, key);
                    Emit(emitter, value);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(null, null, isImplicit: true, SequenceStyle.Block));
                foreach (var item in array)
                {
                    Emit(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case JsonValue value:
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String:
                        EmitString(emitter, value.GetValue<string>());
                        break;
                    case JsonValueKind.True:
                    case JsonValueKind.False:
                    case JsonValueKind.Number:
                        emitter.Emit(new Scalar(null, null, value.ToJsonString(), ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));
                        break;
                    default:
                        emitter.Emit(new Scalar(null, null, "null", ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));
                        break;
                }

                break;
        }
    }

    private static void EmitString(IEmitter emitter, string text)
    {
        // Text that would read back as null, a boolean or a number, or contains macros, is quoted.
        var quote = YamlNodeReader.PlainKind(text) != ScalarKind.String || text.Contains("{{", StringComparison.Ordinal);
        emitter.Emit(new Scalar(null, null, text, quote ? ScalarStyle.DoubleQuoted : ScalarStyle.Any, isPlainImplicit: !quote, isQuotedImplicit: true));
    }
}
