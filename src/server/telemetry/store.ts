import { sql } from 'kysely';
import type { Db, Tx } from '../core/db/database.js';

/** Reads of telemetry: raw values, and buckets from raw values (minutes) or from the hourly rollups. */
type Conn = Db | Tx;

export interface TelemetryQuery {
  deviceId: string;
  from: Date;
  to: Date;
  metrics?: string[];
}

export async function rawTelemetry(db: Conn, query: TelemetryQuery, limit: number) {
  const result = await sql<{ ts: Date; metric: string; value: number }>`
    SELECT ts, metric, value FROM telemetry
    WHERE device_id = ${query.deviceId}::uuid AND ts >= ${query.from} AND ts < ${query.to}
    ${query.metrics ? sql`AND metric = ANY(${query.metrics}::text[])` : sql``}
    ORDER BY ts, metric LIMIT ${limit}`.execute(db);
  return result.rows;
}

export interface Bucket {
  bucket: Date;
  metric: string;
  count: number;
  min: number;
  max: number;
  avg: number;
}

/** Buckets shorter than an hour are computed from the raw values. */
export async function bucketsFromRaw(db: Conn, query: TelemetryQuery, bucketSeconds: number) {
  const result = await sql<Bucket>`
    SELECT date_bin(make_interval(secs => ${bucketSeconds}), ts, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket, metric,
           count(*)::int AS count, min(value) AS min, max(value) AS max, avg(value) AS avg
    FROM telemetry
    WHERE device_id = ${query.deviceId}::uuid AND ts >= ${query.from} AND ts < ${query.to}
    ${query.metrics ? sql`AND metric = ANY(${query.metrics}::text[])` : sql``}
    GROUP BY 1, 2 ORDER BY 1, 2`.execute(db);
  return result.rows;
}

/** Hour and day buckets come from the hourly rollups, never from a scan of raw values. */
export async function bucketsFromRollups(db: Conn, query: TelemetryQuery, bucketSeconds: number) {
  const result = await sql<Bucket>`
    SELECT date_bin(make_interval(secs => ${bucketSeconds}), hour, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket, metric,
           sum(count)::int AS count, min(min) AS min, max(max) AS max, sum(sum) / sum(count) AS avg
    FROM telemetry_rollups_hourly
    WHERE device_id = ${query.deviceId}::uuid AND hour >= date_trunc('hour', ${query.from}::timestamptz) AND hour < ${query.to}
    ${query.metrics ? sql`AND metric = ANY(${query.metrics}::text[])` : sql``}
    GROUP BY 1, 2 ORDER BY 1, 2`.execute(db);
  return result.rows;
}
