import type { CommandStatus, DeviceCommand } from '../../shared/commands.js';
import type { CommandRow } from './store.js';

export type { DeviceCommand };

export function presentCommand(row: CommandRow): DeviceCommand {
  return {
    id: row.id,
    requestId: row.request_id,
    deviceId: row.device_id,
    method: row.method,
    params: row.params,
    twoWay: row.two_way,
    status: row.status,
    response: row.response ?? null,
    error: row.error,
    timeoutSeconds: row.timeout_seconds,
    deadline: row.deadline.toISOString(),
    createdBy: row.created_by,
    createdByLabel: row.created_by_label,
    createdAt: row.created_at.toISOString(),
    sentAt: row.sent_at?.toISOString() ?? null,
    answeredAt: row.answered_at?.toISOString() ?? null,
  };
}

/** Statuses past which nothing changes any more. */
export const FINAL_STATUSES: ReadonlySet<CommandStatus> = new Set(['delivered', 'succeeded', 'failed', 'timed_out', 'expired']);
