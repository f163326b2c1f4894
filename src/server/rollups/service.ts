import type { AppContext } from '../core/context.js';
import type { Db } from '../core/db/database.js';
import { isTransientConflict } from '../core/db/errors.js';
import * as store from './store.js';

/** Pending batches folded per statement: large enough to group well, small enough to keep locks short. */
const FOLD_BATCHES = 500;
/** Pending telemetry aggregates (one per device, metric and hour of a batch) folded per statement. */
const FOLD_TELEMETRY_ROWS = 5_000;
/** Dirty equipment hours recomputed per statement. */
const DERIVE_HOURS = 200;
/** How long a reading holds when no next reading follows (a silent unit is not assumed unchanged). */
export const READING_HOLD_SECONDS = 15 * 60;

export type RollupTable = 'events' | 'telemetry' | 'equipment';

/**
 * Keeps the hourly rollups current. Ingest commits each batch's new items into a pending table in the
 * same statement as the items; this service folds them into the rollups every second in the
 * background, and before any read of the rollups (`settle`), so a reader always sees every batch
 * committed before its read began.
 */
export class RollupsService {
  constructor(private readonly ctx: AppContext) {}

  /** Background fold: skips batches another process is folding. Returns the batches and hours done. */
  async foldPending(): Promise<number> {
    return (await this.fold('events', false)) + (await this.fold('telemetry', false)) + (await this.fold('equipment', false));
  }

  /**
   * Folds every pending batch of the table (equipment: every dirty hour, after the telemetry it is
   * derived from), waiting for folds in progress elsewhere to commit.
   */
  async settle(table: RollupTable): Promise<void> {
    if (table === 'equipment') await this.settle('telemetry');
    if (await store.hasPending(this.ctx.db, table)) await this.fold(table, true);
  }

  private async fold(table: RollupTable, wait: boolean): Promise<number> {
    const limit = { events: FOLD_BATCHES, telemetry: FOLD_TELEMETRY_ROWS, equipment: DERIVE_HOURS }[table];
    const foldOnce = {
      events: store.foldEvents,
      telemetry: store.foldTelemetry,
      // In the background (no wait) only hours that have ended; a reader settles the current one.
      equipment: (db: Db, n: number, w: boolean) => store.deriveEquipmentHours(db, n, READING_HOLD_SECONDS, w, !w),
    }[table];
    let total = 0;
    for (let attempt = 1; ; ) {
      let folded: number;
      try {
        folded = await foldOnce(this.ctx.db, limit, wait);
      } catch (error) {
        // A deadlock with a concurrent event delete rolled the fold back whole: the batches are still pending.
        if (isTransientConflict(error) && attempt++ < 3) continue;
        throw error;
      }
      total += folded;
      if (folded < limit) return total;
    }
  }
}
