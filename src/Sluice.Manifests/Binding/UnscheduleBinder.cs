using Sluice.Manifests.Parsing;
using Sluice.Manifests.Values;

namespace Sluice.Manifests.Binding;

internal static class UnscheduleBinder
{
    public static UnscheduleManifest? Bind(BindContext context, Node specNode, ManifestMetadata? metadata, ManifestSource source)
    {
        var reader = ObjectReader.Open(context, specNode, "spec", ManifestFields.UnscheduleSpec);
        if (reader is null)
        {
            return null;
        }

        var dagId = reader.Pattern("dagId", Patterns.DagId, "dag ids are 1 to 250 letters, digits, '_', '.' or '-'", required: true, example: "daily_sales");
        var cancelRunning = reader.Bool("cancelRunning");
        reader.Finish();
        return metadata is null || dagId is null
            ? null
            : new UnscheduleManifest
            {
                Metadata = metadata,
                Source = source,
                Spec = new UnscheduleSpec { DagId = dagId, CancelRunning = cancelRunning ?? false },
            };
    }
}
