using Sluice.Controller.Schedules;
using Sluice.Manifests;

namespace Sluice.Controller.Intake;

/// <summary>Intake's view of the schedule flow: registration and removal through <see cref="ScheduleService"/>.</summary>
public sealed class ScheduleRegistrar : IScheduleRegistrar
{
    private readonly ScheduleService _schedules;

    public ScheduleRegistrar(ScheduleService schedules)
    {
        _schedules = schedules;
    }

    public async Task RegisterAsync(ScheduleManifest manifest, string source, CancellationToken cancellationToken)
    {
        try
        {
            await _schedules.RegisterAsync(manifest, source, cancellationToken);
        }
        catch (ScheduleException e)
        {
            throw new ManifestRefusedException(e.Message, e);
        }
    }

    public async Task<bool> UnscheduleAsync(string dagId, bool cancelRunning, CancellationToken cancellationToken)
    {
        try
        {
            return await _schedules.UnscheduleAsync(dagId, cancelRunning, cancellationToken);
        }
        catch (ScheduleException e)
        {
            throw new ManifestRefusedException(e.Message, e);
        }
    }
}
