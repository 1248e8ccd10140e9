using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sluice.Server.Api;

/// <summary>The JSON conventions of the API (camelCase, nulls omitted, enums as camelCase strings), shared with the CLI.</summary>
public static class SluiceJson
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>Applies the conventions to an options instance (used for ASP.NET Core's HTTP JSON options).</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        return options;
    }
}

/// <summary>A page of a list: <c>{"items": [...], "nextCursor": "..."}</c>. Pass nextCursor back as <c>?cursor=</c> for the next page.</summary>
public sealed record ListResponse<T>(IReadOnlyList<T> Items, string? NextCursor = null);
