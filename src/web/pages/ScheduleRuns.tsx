import { useScheduleRuns, type DeliveryTarget, type ReportSchedule, type ScheduleRun } from '../api/report-schedules';
import { ErrorState, LoadingState } from '../components/states';
import { displayLocale, formatTime } from '../lib/format';

const RUN_STATUS: Record<ScheduleRun['status'], string> = { generating: 'Generating', delivering: 'Delivering', delivered: 'Delivered', failed: 'Failed' };
const TARGET_STATUS: Record<DeliveryTarget, string> = { none: '', pending: 'waiting', sent: 'sent', failed: 'failed' };

/** "16 Nov – 22 Nov 2026": the local dates a run covers (its end is the start of the day after). */
export function describePeriod(run: Pick<ScheduleRun, 'periodFrom' | 'periodTo'>, zone: string): string {
  const format = new Intl.DateTimeFormat(displayLocale(), { year: 'numeric', month: 'short', day: 'numeric', timeZone: zone });
  return format.formatRange(new Date(run.periodFrom), new Date(new Date(run.periodTo).getTime() - 1));
}

function targets(run: ScheduleRun): string {
  const parts = [];
  if (run.email !== 'none') parts.push(`email ${TARGET_STATUS[run.email]}`);
  if (run.webhook !== 'none') parts.push(`webhook ${TARGET_STATUS[run.webhook]}${run.webhookResponseStatus ? ` (${run.webhookResponseStatus})` : ''}`);
  return parts.join(' · ');
}

/** A schedule's latest runs with each delivery's outcome, refreshed while one is in progress. */
export function ScheduleRuns({ schedule, id }: { schedule: ReportSchedule; id: string }) {
  const runs = useScheduleRuns(schedule.id);
  return (
    <div id={id} className="schedule-run-list">
      {runs.isPending && <LoadingState label="Loading runs…" />}
      {runs.isError && <ErrorState title="Runs could not be loaded" error={runs.error} onRetry={() => void runs.refetch()} />}
      {runs.data && runs.data.items.length === 0 && <p className="muted small">No runs yet.</p>}
      {runs.data && runs.data.items.length > 0 && (
        <ul aria-label={`Latest runs of ${schedule.name}`}>
          {runs.data.items.map((run) => (
            <li key={run.id} className="small">
              <strong>{describePeriod(run, schedule.timezone)}</strong>
              {' · '}{run.manual ? 'Sent now' : 'Scheduled'}{' · '}{RUN_STATUS[run.status]}
              {targets(run) && <> · {targets(run)}</>}
              <div className="muted">{formatTime(run.createdAt, schedule.timezone)}{run.attempts > 1 ? ` · ${run.attempts} attempts` : ''}</div>
              {run.lastError && <div className="report-failed">{run.lastError}</div>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
