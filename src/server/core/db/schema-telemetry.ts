import type { ColumnType, Generated } from 'kysely';

/** A device's non-numeric telemetry value (string, JSON, boolean) per key and instant (migration 0042). */
export interface TelemetryValuesTable {
  org_id: string;
  device_id: string;
  key: string;
  ts: Date;
  /** The value as the device sent it; jsonb. */
  value: ColumnType<unknown, string, string>;
  received_at: Generated<Date>;
}
