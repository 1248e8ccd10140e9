using System.Text.Json;
using System.Text.Json.Serialization;
using Sluice.Manifests.Values;

namespace Sluice.Manifests;

/// <summary>
/// The JSON form of manifests and specs for storage and APIs: camelCase, nulls omitted, enums as the manifest
/// spells them, durations as <c>1h30m</c>. <c>Deserialize(Serialize(x))</c> gives back an equal spec.
/// </summary>
public static class ManifestJson
{
    public static readonly JsonSerializerOptions Options = CreateOptions(indented: false);

    public static readonly JsonSerializerOptions IndentedOptions = CreateOptions(indented: true);

    public static string Serialize<T>(T value, bool indented = false) =>
        JsonSerializer.Serialize(value, indented ? IndentedOptions : Options);

    /// <summary>
    /// Whether two specs say the same thing (records holding maps and lists compare those by reference, so
    /// compare the stored forms; map order does not matter).
    /// </summary>
    public static bool AreEquivalent<T>(T first, T second) =>
        System.Text.Json.Nodes.JsonNode.DeepEquals(JsonSerializer.SerializeToNode(first, Options), JsonSerializer.SerializeToNode(second, Options));

    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException($"the JSON holds null instead of a {typeof(T).Name}");

    private static JsonSerializerOptions CreateOptions(bool indented)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = indented,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            AllowOutOfOrderMetadataProperties = true,
            RespectNullableAnnotations = true,
            TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.Converters.Add(new DurationJsonConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private sealed class DurationJsonConverter : JsonConverter<TimeSpan>
    {
        public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.GetString();
            if (text == "0s")
            {
                return TimeSpan.Zero;
            }

            return Durations.TryParse(text, out var duration, out var error) ? duration : throw new JsonException(error);
        }

        public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Durations.Format(value));
    }
}
