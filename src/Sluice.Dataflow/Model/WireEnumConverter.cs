using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sluice.Dataflow;

/// <summary>
/// Reads and writes enums by the names Google's discovery document gives them
/// (<see cref="JsonStringEnumMemberNameAttribute"/>). Unknown names read as the enum's zero value, because Google adds
/// values to its enums over time and an old client must not fail on a new state.
/// </summary>
public sealed class WireEnumConverter<TEnum> : JsonConverter<TEnum>
    where TEnum : struct, Enum
{
    public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"Expected a string for {typeof(TEnum).Name}, found {reader.TokenType}.");
        }

        return WireNames.TryParse<TEnum>(reader.GetString(), out var value) ? value : default;
    }

    public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options) =>
        writer.WriteStringValue(WireNames.Of(value));
}

/// <summary>The discovery document's names of enum values.</summary>
public static class WireNames
{
    /// <summary>The wire name of <paramref name="value"/>, e.g. <c>JOB_STATE_RUNNING</c>.</summary>
    public static string Of<TEnum>(TEnum value)
        where TEnum : struct, Enum =>
        Table<TEnum>.ByValue.TryGetValue(value, out var name) ? name : value.ToString();

    /// <summary>Parses a wire name; false when it is not one.</summary>
    public static bool TryParse<TEnum>(string? name, out TEnum value)
        where TEnum : struct, Enum
    {
        if (name is not null && Table<TEnum>.ByName.TryGetValue(name, out value))
        {
            return true;
        }

        value = default;
        return false;
    }

    private static class Table<TEnum>
        where TEnum : struct, Enum
    {
        public static readonly Dictionary<string, TEnum> ByName = Build();
        public static readonly Dictionary<TEnum, string> ByValue = ByName.ToDictionary(pair => pair.Value, pair => pair.Key);

        private static Dictionary<string, TEnum> Build()
        {
            var result = new Dictionary<string, TEnum>(StringComparer.Ordinal);
            foreach (var field in typeof(TEnum).GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                var name = field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? field.Name;
                result[name] = (TEnum)field.GetValue(null)!;
            }

            return result;
        }
    }
}
