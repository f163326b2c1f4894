import type { ColumnType } from 'kysely';

/** Timestamp columns the database fills in: never written (created) or written on update. */
export type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
export type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
