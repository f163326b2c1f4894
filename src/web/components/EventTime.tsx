import { displayLocale } from '../lib/format';
import { formatTime, formatTimeRuns } from '../../shared/format';

/**
 * A moment in a named zone; the full IANA name is in the tooltip. In the organization's locale unless told (a
 * public page: the device's owner's). `stacked`, for a table's time column: on a phone the date and the clock
 * take a line each (the zone a third where the cell is too narrow), none broken, instead of four ragged lines.
 */
export function EventTime({ iso, zone, stacked = false, locale = displayLocale() }: { iso: string; zone: string; stacked?: boolean; locale?: string }) {
  if (!stacked) {
    return (
      <time dateTime={iso} title={zone}>
        {formatTime(iso, zone, locale, { seconds: true })}
      </time>
    );
  }
  const runs = formatTimeRuns(iso, zone, locale, { seconds: true });
  return (
    <time dateTime={iso} title={zone} className="time-stacked">
      <span className="time-date time-run">{runs.date}</span>
      <span className="time-separator">{runs.separator}</span>
      <span className="time-clock">
        <span className="time-run">{runs.clock}</span>{runs.zoneSeparator}<span className="time-run">{runs.zone}</span>
      </span>
    </time>
  );
}
