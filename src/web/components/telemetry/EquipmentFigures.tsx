import { useEquipmentFigures } from '../../api/fleet';
import { EmptyState, ErrorState, LoadingState } from '../states';

const DAYS = 7;

function minutes(seconds: number | null): string {
  return seconds === null ? '—' : `${Math.round(seconds / 60)} min`;
}

/**
 * Door-open time, compressor duty cycle and time outside the safe range per local day of the unit's site
 * (docs/equipment-figures.md), the figures an inspector asks for. Without a safe range, a way to set one.
 */
export function EquipmentFigures({ deviceId, canEdit, onEdit }: { deviceId: string; canEdit: boolean; onEdit: () => void }) {
  const figures = useEquipmentFigures(deviceId, DAYS);
  const range = figures.data?.safeRange;
  const zone = figures.data?.timezone;
  return (
    <section className="panel" aria-labelledby="equipment-heading">
      <div className="panel-header">
        <h2 id="equipment-heading">Equipment figures</h2>
        <span className="muted small">
          Last {DAYS} days, per day{zone ? ` in ${zone}` : ''} · {range ? `safe range ${range.min} to ${range.max} °C` : 'no safe range set'}
        </span>
      </div>
      {figures.isSuccess && !range && (
        <p className="muted small">
          Without a safe range, time outside it and excursions cannot be assessed here or in the compliance record.{' '}
          {canEdit ? <button type="button" className="button button-small" onClick={onEdit}>Set the safe range</button> : 'Ask an administrator to set it in the device settings.'}
        </p>
      )}
      {figures.isPending ? <LoadingState label="Loading equipment figures" />
        : figures.isError ? <ErrorState title="Could not load the equipment figures" error={figures.error} onRetry={() => void figures.refetch()} />
        : figures.data.buckets.length === 0 ? <EmptyState title="No readings in the last 7 days" />
        : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Equipment figures per day">
            <table className="table">
              <thead>
                <tr><th scope="col">Day</th><th scope="col">Door open</th><th scope="col">Compressor duty</th><th scope="col">Outside safe range</th><th scope="col">Min / max °C</th></tr>
              </thead>
              <tbody>
                {figures.data.buckets.map((day) => (
                  <tr key={day.ts}>
                    <td>{day.date}</td>
                    <td>{minutes(day.doorOpenSeconds)}</td>
                    <td>{day.compressorDutyCycle === null ? '—' : `${Math.round(day.compressorDutyCycle * 100)} %`}</td>
                    <td>{minutes(day.outsideRangeSeconds)}</td>
                    <td>{day.temperatureMin === null ? '—' : `${day.temperatureMin} / ${day.temperatureMax}`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </section>
  );
}
