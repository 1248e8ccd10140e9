using System.Globalization;
using System.Text;

namespace Sluice.Manifests.Templating;

/// <summary>Python strftime directives, for formats copied from Airflow DAGs (<c>%Y%m%d</c>).</summary>
internal static class Strftime
{
    private const string Supported = "YmdHMSyjbBaAfzpIe%";

    public static bool TryCheck(string format, out string? error)
    {
        error = null;
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%')
            {
                continue;
            }

            if (i + 1 >= format.Length || !Supported.Contains(format[i + 1], StringComparison.Ordinal))
            {
                var directive = i + 1 < format.Length ? "%" + format[i + 1] : "%";
                error = $"the strftime directive '{directive}' is not supported; use %Y %m %d %H %M %S %y %j %b %B %a %A %f %z %p %I %e or %%";
                return false;
            }

            i++;
        }

        return true;
    }

    public static string Format(DateTimeOffset value, string format)
    {
        var text = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                text.Append(format[i]);
                continue;
            }

            i++;
            text.Append(format[i] switch
            {
                'Y' => value.ToString("yyyy", CultureInfo.InvariantCulture),
                'm' => value.ToString("MM", CultureInfo.InvariantCulture),
                'd' => value.ToString("dd", CultureInfo.InvariantCulture),
                'e' => value.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2),
                'H' => value.ToString("HH", CultureInfo.InvariantCulture),
                'I' => value.ToString("hh", CultureInfo.InvariantCulture),
                'p' => value.ToString("tt", CultureInfo.InvariantCulture),
                'M' => value.ToString("mm", CultureInfo.InvariantCulture),
                'S' => value.ToString("ss", CultureInfo.InvariantCulture),
                'y' => value.ToString("yy", CultureInfo.InvariantCulture),
                'j' => value.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
                'b' => value.ToString("MMM", CultureInfo.InvariantCulture),
                'B' => value.ToString("MMMM", CultureInfo.InvariantCulture),
                'a' => value.ToString("ddd", CultureInfo.InvariantCulture),
                'A' => value.ToString("dddd", CultureInfo.InvariantCulture),
                'f' => value.ToString("ffffff", CultureInfo.InvariantCulture),
                'z' => value.ToString("zzz", CultureInfo.InvariantCulture).Replace(":", string.Empty, StringComparison.Ordinal),
                '%' => "%",
                var other => "%" + other,
            });
        }

        return text.ToString();
    }
}
