import { sql } from 'kysely';
import type { Scope } from '../core/access.js';
import type { Db, Tx } from '../core/db/database.js';
import { inScope } from '../core/db/scope.js';

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

export interface EquipmentBucket {
  bucket: Date;
  covered_seconds: number;
  door_open_seconds: number;
  compressor_observed_seconds: number;
  compressor_on_seconds: number;
  outside_range_seconds: number | null;
  temperature_min: number | null;
  temperature_max: number | null;
}

/**
 * Derived refrigeration figures (door open, compressor run time, time outside the safe range) per hour, or
 * per day of `zone` (the site's): each stored hour counts in the local day it starts in. `date` is that day.
 */
export async function equipmentBuckets(db: Conn, query: TelemetryQuery, bucketSeconds: number, zone: string) {
  const bucket = bucketSeconds >= 86_400
    ? sql`date_trunc('day', hour AT TIME ZONE ${zone}) AT TIME ZONE ${zone}`
    : sql`date_bin(make_interval(secs => ${bucketSeconds}), hour, TIMESTAMPTZ '2000-01-01 00:00:00+00')`;
  const result = await sql<EquipmentBucket & { date: string }>`
    SELECT bucket, to_char(bucket AT TIME ZONE ${zone}, 'YYYY-MM-DD') AS date,
           sum(covered_seconds)::float8 AS covered_seconds, sum(door_open_seconds)::float8 AS door_open_seconds,
           sum(compressor_observed_seconds)::float8 AS compressor_observed_seconds, sum(compressor_on_seconds)::float8 AS compressor_on_seconds,
           sum(outside_range_seconds)::float8 AS outside_range_seconds, min(temperature_min) AS temperature_min, max(temperature_max) AS temperature_max
    FROM (SELECT ${bucket} AS bucket, * FROM equipment_hourly
          WHERE device_id = ${query.deviceId}::uuid AND hour >= date_trunc('hour', ${query.from}::timestamptz) AND hour < ${query.to}) h
    GROUP BY bucket ORDER BY bucket`.execute(db);
  return result.rows;
}

export interface LatestValue {
  key: string;
  ts: Date;
  /** Set for a key's numeric series (numbers, and booleans as 0/1). */
  number: number | null;
  /** Set for a value kept as sent (string, JSON, boolean). */
  typed: unknown;
}

/**
 * The newest value of each of a device's keys after `after`, up to `limit` keys of each series, from the
 * numeric series and from the typed values; the caller keeps the newest per key. Keys are found with a
 * loose index scan (one probe of the primary key per key, however many readings a key has), so nothing
 * is written per reading to keep "latest" current. Scoped: a device outside `scope` has no keys.
 */
export async function latestValues(db: Conn, scope: Scope, deviceId: string, after: string | null, limit: number): Promise<LatestValue[]> {
  const from = after ?? '';
  const result = await sql<LatestValue>`
    WITH RECURSIVE device AS (
      SELECT d.id FROM devices d WHERE d.id = ${deviceId}::uuid AND ${inScope(scope, 'd')}
    ), numeric_keys(key, n) AS (
      (SELECT t.metric, 1 FROM telemetry t WHERE EXISTS (SELECT FROM device) AND t.device_id = ${deviceId}::uuid AND t.org_id = ${scope.orgId}::uuid AND t.metric > ${from} ORDER BY t.metric LIMIT 1)
      UNION ALL
      SELECT (SELECT t.metric FROM telemetry t WHERE t.device_id = ${deviceId}::uuid AND t.org_id = ${scope.orgId}::uuid AND t.metric > k.key ORDER BY t.metric LIMIT 1), n + 1
      FROM numeric_keys k WHERE k.key IS NOT NULL AND n <= ${limit}
    ), typed_keys(key, n) AS (
      (SELECT v.key, 1 FROM telemetry_values v WHERE EXISTS (SELECT FROM device) AND v.device_id = ${deviceId}::uuid AND v.key > ${from} ORDER BY v.key LIMIT 1)
      UNION ALL
      SELECT (SELECT v.key FROM telemetry_values v WHERE v.device_id = ${deviceId}::uuid AND v.key > k.key ORDER BY v.key LIMIT 1), n + 1
      FROM typed_keys k WHERE k.key IS NOT NULL AND n <= ${limit}
    )
    SELECT k.key, l.ts, l.value AS number, NULL::jsonb AS typed FROM numeric_keys k CROSS JOIN LATERAL (
      SELECT t.ts, t.value FROM telemetry t WHERE t.device_id = ${deviceId}::uuid AND t.org_id = ${scope.orgId}::uuid AND t.metric = k.key ORDER BY t.ts DESC LIMIT 1
    ) l WHERE k.key IS NOT NULL
    UNION ALL
    SELECT k.key, l.ts, NULL, l.value FROM typed_keys k CROSS JOIN LATERAL (
      SELECT v.ts, v.value FROM telemetry_values v WHERE v.device_id = ${deviceId}::uuid AND v.key = k.key ORDER BY v.ts DESC LIMIT 1
    ) l WHERE k.key IS NOT NULL`.execute(db);
  return result.rows;
}
