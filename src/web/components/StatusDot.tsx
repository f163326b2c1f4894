import type { DeviceStatus } from '../api/types';
import { STATUS_LABELS } from '../lib/format';

/** A coloured dot with its word: status is never told by colour alone. */
export function StatusDot({ status }: { status: DeviceStatus }) {
  return (
    <span className={`status status-${status}`}>
      <span className="status-dot" aria-hidden="true" />
      {STATUS_LABELS[status]}
    </span>
  );
}
