import { formatTime } from '../lib/format';

/** A moment in a named zone; the full IANA name is in the tooltip. */
export function EventTime({ iso, zone }: { iso: string; zone: string }) {
  return (
    <time dateTime={iso} title={zone}>
      {formatTime(iso, zone)}
    </time>
  );
}
