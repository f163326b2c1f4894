import type { ColumnType } from 'kysely';
import type { UpdatedAt } from './schema-columns.js';

/** Who sets an attribute: the device itself (`client`) or members, for the device (`shared`). */
export type AttributeScope = 'client' | 'shared';

/** Device attributes (migration 0045). */
export interface DeviceAttributesTable {
  org_id: string;
  device_id: string;
  scope: AttributeScope;
  key: string;
  /** Written as JSON text, read as the parsed value. */
  value: ColumnType<unknown, string, string>;
  updated_at: UpdatedAt;
}
