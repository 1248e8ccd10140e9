using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Sluice.Manifests.Parsing;

/// <summary>
/// Writes a parsed document as JSON, the way editors and JSON Schema validators see a YAML manifest
/// (plain numbers and booleans as JSON numbers and booleans, everything else as strings).
/// </summary>
internal static class NodeJson
{
    public static string ToJson(Node node)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            Write(writer, node);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, Node node)
    {
        switch (node)
        {
            case MappingNode mapping:
                writer.WriteStartObject();
                foreach (var (key, value) in mapping.Entries)
                {
                    writer.WritePropertyName(key.Text);
                    Write(writer, value);
                }

                writer.WriteEndObject();
                break;
            case SequenceNode sequence:
                writer.WriteStartArray();
                foreach (var item in sequence.Items)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            case ScalarNode { Kind: ScalarKind.Null }:
                writer.WriteNullValue();
                break;
            case ScalarNode { Kind: ScalarKind.Boolean } boolean:
                writer.WriteBooleanValue(boolean.Text.Equals("true", StringComparison.OrdinalIgnoreCase));
                break;
            case ScalarNode { Kind: ScalarKind.Number } number
                when double.TryParse(number.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value):
                writer.WriteRawValue(decimal.TryParse(number.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var exact)
                    ? exact.ToString(CultureInfo.InvariantCulture)
                    : value.ToString("R", CultureInfo.InvariantCulture));
                break;
            case ScalarNode scalar:
                writer.WriteStringValue(scalar.Text);
                break;
        }
    }
}
