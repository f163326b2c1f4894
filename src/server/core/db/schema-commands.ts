import type { ColumnType, Generated } from 'kysely';
import type { CommandStatus } from '../../../shared/commands.js';
import type { CreatedAt } from './schema-columns.js';

export type { CommandStatus };

/** Commands (RPC) sent to devices (migration 0046). */
export interface DeviceCommandsTable {
  id: Generated<string>;
  /** The integer a device sees in its request topic and answers with. */
  request_id: ColumnType<number, never, never>;
  org_id: string;
  device_id: string;
  method: string;
  params: ColumnType<unknown, string, string>;
  two_way: boolean;
  status: Generated<CommandStatus>;
  response: ColumnType<unknown, string | null | undefined, string | null>;
  error: string | null;
  timeout_seconds: number;
  deadline: Date;
  created_by: string | null;
  created_by_label: string | null;
  created_at: CreatedAt;
  sent_at: Date | null;
  answered_at: Date | null;
}
