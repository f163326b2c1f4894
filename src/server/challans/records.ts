import type { AppContext } from '../core/context.js';
import { dayDmy } from '../../shared/challans.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { Notifier } from '../alerts/notifier.js';
import * as store from './records-store.js';

/** Deleted challans may be restored for this long; then the purge removes them for good. */
export const RESTORE_DAYS = 30;
const PURGE_BATCH = 500;
const DIGEST_ORGS = 100;
const DIGEST_LINES = 100;
const SYSTEM: Actor = { userId: null, label: 'vigil', ip: null, userAgent: 'vigil-worker' };

/**
 * The register's upkeep, run by leased jobs: challans deleted more than 30 days ago are purged with their POD
 * files (their numbers stay taken), and once a week each organization's notification channels get the list of
 * challans whose POD or invoice submission is outstanding.
 */
export class ChallanRecordsService {
  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly notifier: Notifier,
  ) {}

  /** Purges in batches until none is left; answers how many challans went. */
  async purgeDeleted(): Promise<number> {
    let purged = 0;
    for (;;) {
      const rows = await this.ctx.db.transaction().execute(async (tx) => {
        const gone = await store.purgeDeleted(tx, RESTORE_DAYS, PURGE_BATCH);
        for (const row of gone) {
          await this.audit.record(SYSTEM, { orgId: row.org_id, action: 'challan.purged', resourceType: 'delivery_challan', resourceId: row.id, details: { number: row.number } }, tx);
        }
        return gone;
      });
      purged += rows.length;
      if (rows.length < PURGE_BATCH) break;
    }
    await this.removeQueuedFiles();
    return purged;
  }

  /** Removes from the media storage the files of POD rows that are gone (queued by the database). */
  async removeQueuedFiles(): Promise<number> {
    let removed = 0;
    for (const key of await store.queuedFileDeletions(this.ctx.db, PURGE_BATCH)) {
      try {
        await this.ctx.media.delete(key);
        await store.forgetFileDeletion(this.ctx.db, key);
        removed += 1;
      } catch (error) {
        // Stays queued for the next run.
        this.ctx.logger.warn({ err: error, key }, 'could not remove a proof-of-delivery file; will retry');
      }
    }
    return removed;
  }

  /**
   * Queues this week's digest of outstanding challans for every organization that is due (Monday 08:00 in its
   * zone or later, not yet sent this week). The week's row is claimed in the transaction that queues the notice,
   * so two processes never both send it.
   */
  async sendWeeklyDigests(at = new Date()): Promise<number> {
    const days = this.ctx.config.challanOutstandingDays;
    let queued = 0;
    for (const due of await store.digestsDue(this.ctx.db, days, at, DIGEST_ORGS)) {
      const sent = await this.ctx.db.transaction().execute(async (tx) => {
        const { rows, total } = await store.outstandingChallans(tx, due.org_id, due.zone, days, at, DIGEST_LINES);
        if (total === 0 || !(await store.claimDigestWeek(tx, due.org_id, due.week_of, total))) return false;
        const lines = rows.map((c) => `${c.number}  ${dayDmy(c.challan_date)}  ${c.customer_name}  ${[
          c.has_pod ? null : 'no POD', c.invoice_submitted ? null : c.invoice_number ? `invoice ${c.invoice_number} not submitted` : 'no invoice',
        ].filter(Boolean).join(', ')}`);
        const more = total > rows.length ? [`… and ${total - rows.length} more.`] : [];
        const link = `${this.ctx.config.publicUrl.replace(/\/$/, '')}/challans?outstandingDays=${days}`;
        await this.notifier.queueNotice(tx, due.org_id, null, {
          event: 'challans.outstanding',
          organizationId: due.org_id,
          notice: {
            subject: `${total} delivery challan(s) outstanding in ${due.org_name}`,
            text: [`Challans dated ${days} or more days ago without proof of delivery or a submitted invoice (week of ${dayDmy(due.week_of)}):`, '', ...lines, ...more, '', `The register: ${link}`].join('\n'),
            siteId: null, deviceId: null, deviceName: null,
          },
          challans: { weekOf: due.week_of, days, total, items: rows.map((c) => ({ id: c.id, number: c.number, challanDate: c.challan_date, customerName: c.customer_name, podReceived: c.has_pod, invoiceSubmitted: c.invoice_submitted })) },
          sentBy: 'vigil',
        });
        return true;
      });
      if (sent) queued += 1;
    }
    if (queued > 0) await this.notifier.deliverDue();
    return queued;
  }
}
