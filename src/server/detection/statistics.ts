import { DateTime } from 'luxon';
import type { Scope } from '../core/access.js';
import type { Db } from '../core/db/database.js';
import { badRequest } from '../core/http/errors.js';
import type { RuleName } from './rules.js';
import * as store from './store.js';

/**
 * Per-camera daily detection statistics: counted in memory by the worker that runs the camera and added to
 * the database in one statement per flush (every minute, and when a camera stops), never computed from
 * events. A day is the camera's local day (its site's zone, else its organization's).
 */
export const FLUSH_EVERY_MS = 60_000;
/** The longest range one statistics request may cover. */
export const MAX_RANGE_DAYS = 366;

const RULE_COLUMN = { no_hardhat: 'noHardhat', no_vest: 'noVest', zone_breach: 'zoneBreach' } as const satisfies Record<RuleName, keyof store.DailyCounts>;

export interface CameraClock {
  cameraId: string;
  orgId: string;
  timezone: string;
}

export class DetectionCounters {
  private pending = new Map<string, store.DailyCounts>();

  private counts(camera: CameraClock, at: number): store.DailyCounts {
    const day = DateTime.fromMillis(at, { zone: camera.timezone }).toISODate() ?? new Date(at).toISOString().slice(0, 10);
    const key = `${camera.cameraId}|${day}`;
    let row = this.pending.get(key);
    if (!row) {
      row = {
        cameraId: camera.cameraId, orgId: camera.orgId, day, framesDecoded: 0, framesInferred: 0, framesSkipped: 0, framesFailed: 0,
        inferenceMs: 0, pipelineMs: 0, noHardhat: 0, noVest: 0, zoneBreach: 0,
      };
      this.pending.set(key, row);
    }
    return row;
  }

  decoded(camera: CameraClock, at: number): void {
    this.counts(camera, at).framesDecoded++;
  }

  /** A frame that arrived while the previous one was still being analysed. */
  skipped(camera: CameraClock, at: number): void {
    this.counts(camera, at).framesSkipped++;
  }

  failed(camera: CameraClock, at: number): void {
    this.counts(camera, at).framesFailed++;
  }

  inferred(camera: CameraClock, at: number, inferenceMs: number, pipelineMs: number): void {
    const row = this.counts(camera, at);
    row.framesInferred++;
    row.inferenceMs += inferenceMs;
    row.pipelineMs += pipelineMs;
  }

  violation(camera: CameraClock, at: number, rule: RuleName): void {
    this.counts(camera, at)[RULE_COLUMN[rule]]++;
  }

  /** Writes what was counted since the last flush; on failure the counts are kept for the next one. */
  async flush(db: Db): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await store.addDailyCounts(db, [...batch.values()]);
    } catch (error) {
      for (const [key, row] of batch) {
        const now = this.pending.get(key);
        if (!now) this.pending.set(key, row);
        else for (const field of Object.keys(row) as (keyof store.DailyCounts)[]) if (typeof row[field] === 'number') (now[field] as number) += row[field] as number;
      }
      throw error;
    }
  }
}

export interface StatisticsQuery {
  from?: string;
  to?: string;
}

function presentDay(row: store.DailyRow) {
  return {
    day: row.day,
    framesDecoded: row.frames_decoded,
    framesInferred: row.frames_inferred,
    framesSkipped: row.frames_skipped,
    framesFailed: row.frames_failed,
    inferenceMsAverage: row.frames_inferred > 0 ? round(row.inference_ms / row.frames_inferred) : null,
    pipelineMsAverage: row.frames_inferred > 0 ? round(row.pipeline_ms / row.frames_inferred) : null,
    violations: { no_hardhat: row.no_hardhat, no_vest: row.no_vest, zone_breach: row.zone_breach },
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Sums rows into one (per camera, or per day over every camera). */
function total(rows: store.DailyRow[], day = ''): store.DailyRow {
  const sum: store.DailyRow = {
    camera_id: '', day, frames_decoded: 0, frames_inferred: 0, frames_skipped: 0, frames_failed: 0, inference_ms: 0, pipeline_ms: 0, no_hardhat: 0, no_vest: 0, zone_breach: 0,
  };
  for (const row of rows) {
    for (const key of ['frames_decoded', 'frames_inferred', 'frames_skipped', 'frames_failed', 'inference_ms', 'pipeline_ms', 'no_hardhat', 'no_vest', 'zone_breach'] as const) sum[key] += row[key];
  }
  return sum;
}

/** from/to as calendar days (default: the last 7 days up to today, UTC), checked. */
function range(query: StatisticsQuery) {
  const to = query.to ?? new Date().toISOString().slice(0, 10);
  const from = query.from ?? DateTime.fromISO(to, { zone: 'utc' }).minus({ days: 6 }).toISODate()!;
  const days = DateTime.fromISO(to, { zone: 'utc' }).diff(DateTime.fromISO(from, { zone: 'utc' }), 'days').days;
  if (days < 0) throw badRequest('"from" must not be after "to"', [{ field: 'from', message: 'must not be after "to"' }]);
  if (days >= MAX_RANGE_DAYS) throw badRequest(`a range covers at most ${MAX_RANGE_DAYS} days`, [{ field: 'from', message: `is more than ${MAX_RANGE_DAYS} days before "to"` }]);
  return { from, to };
}

/** One camera's days (the caller has already been shown the camera: scope checked). */
export async function cameraStatistics(db: Db, scope: Scope, cameraId: string, query: StatisticsQuery) {
  const { from, to } = range(query);
  const rows = await store.dailyStatistics(db, scope, { from, to, cameraId });
  const { day: _day, ...totals } = presentDay(total(rows));
  return { cameraId, from, to, days: rows.map(presentDay), totals };
}

/** Every camera the caller may see: totals per camera and per day. */
export async function organizationStatistics(db: Db, scope: Scope, query: StatisticsQuery) {
  const { from, to } = range(query);
  const rows = await store.dailyStatistics(db, scope, { from, to });
  const byCamera = new Map<string, store.DailyRow[]>();
  const byDay = new Map<string, store.DailyRow[]>();
  for (const row of rows) {
    byCamera.set(row.camera_id, [...(byCamera.get(row.camera_id) ?? []), row]);
    byDay.set(row.day, [...(byDay.get(row.day) ?? []), row]);
  }
  const { day: _day, ...totals } = presentDay(total(rows));
  return {
    from, to,
    cameras: [...byCamera].map(([cameraId, own]) => {
      const { day: _d, ...camera } = presentDay(total(own));
      return { cameraId, ...camera };
    }),
    days: [...byDay].map(([day, own]) => presentDay(total(own, day))),
    totals,
  };
}

/** Violations by local weekday and hour (the organization's zone) over the range, for the heatmap. */
export async function violationHours(db: Db, settle: () => Promise<void>, scope: Scope, query: StatisticsQuery & { siteId?: string }) {
  const { from, to } = range(query);
  await settle();
  const cells = await store.violationsByHourOfWeek(db, scope, { from, to, siteId: query.siteId });
  return { from, to, cells };
}
