import { useEquipmentFigures } from '../../api/fleet';
import { EmptyState, ErrorState, LoadingState } from '../states';

const DAYS = 7;

function minutes(seconds: number | null): string {
  return seconds === null ? '—' : `${Math.round(seconds / 60)} min`;
}

/**
 * Door-open time, compressor duty cycle and time outside the safe range per day (docs/equipment-figures.md),
 * the figures an inspector asks for.
 */
export function EquipmentFigures({ deviceId }: { deviceId: string }) {
  const figures = useEquipmentFigures(deviceId, DAYS);
  const range = figures.data?.safeRange;
  return (
    <section className="panel" aria-labelledby="equipment-heading">
      <div className="panel-header">
        <h2 id="equipment-heading">Equipment figures</h2>
        <span className="muted small">
          Last {DAYS} days, per UTC day · {range ? `safe range ${range.min} to ${range.max} °C` : 'no safe range set (device settings: safeRange)'}
        </span>
      </div>
      {figures.isPending ? <LoadingState label="Loading equipment figures" />
        : figures.isError ? <ErrorState title="Could not load the equipment figures" error={figures.error} onRetry={() => void figures.refetch()} />
        : figures.data.buckets.length === 0 ? <EmptyState title="No readings in the last 7 days" />
        : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Equipment figures per day">
            <table className="table">
              <thead>
                <tr><th scope="col">Day (UTC)</th><th scope="col">Door open</th><th scope="col">Compressor duty</th><th scope="col">Outside safe range</th><th scope="col">Min / max °C</th></tr>
              </thead>
              <tbody>
                {figures.data.buckets.map((day) => (
                  <tr key={day.ts}>
                    <td>{day.ts.slice(0, 10)}</td>
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
