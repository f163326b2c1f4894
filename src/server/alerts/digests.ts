import { DateTime } from 'luxon';
import type { AppContext } from '../core/context.js';
import type { DigestSchedule } from '../core/db/schema.js';
import * as store from './digest-store.js';
import { alertLink, type DigestAlert, type DigestPayload, type NoticePayload } from './messages.js';
import type { Notifier } from './notifier.js';
import { presentAlert } from './present.js';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export function digestProblem(schedule: DigestSchedule): string | null {
  if (schedule.every === 'day' && !HHMM.test(schedule.at)) return 'at is HH:MM (00:00–23:59)';
  if (schedule.every === 'minutes' && !(Number.isInteger(schedule.minutes) && schedule.minutes >= 5 && schedule.minutes <= 1440)) return 'minutes is a whole number from 5 to 1440';
  return null;
}

/** Whether two schedules are the same (jsonb does not keep key order, so no string comparison). */
export function sameDigest(a: DigestSchedule | null, b: DigestSchedule | null): boolean {
  if (a === null || b === null) return a === b;
  return a.every === 'day' ? b.every === 'day' && a.at === b.at : b.every === 'minutes' && a.minutes === b.minutes;
}

/**
 * When the digest after `now` is due, in the organization's time zone: every N minutes counted from
 * local midnight (so "60" is on the hour, and the day's last window ends at midnight), or daily at HH:MM.
 */
export function nextDigestAt(schedule: DigestSchedule, now: Date, zone: string): Date {
  const local = DateTime.fromJSDate(now, { zone });
  const midnight = local.startOf('day');
  if (schedule.every === 'day') {
    const [hour, minute] = schedule.at.split(':').map(Number) as [number, number];
    const today = midnight.set({ hour, minute });
    return (today > local ? today : today.plus({ days: 1 })).toJSDate();
  }
  const elapsed = local.diff(midnight, 'minutes').minutes;
  const next = midnight.plus({ minutes: (Math.floor(elapsed / schedule.minutes) + 1) * schedule.minutes });
  const tomorrow = midnight.plus({ days: 1 });
  return (next < tomorrow ? next : tomorrow).toJSDate();
}

/**
 * Sends the digests that are due (a leased job). For each digest channel whose time has come, one
 * transaction claims it (moves its next digest time on, under a row lock that another process skips)
 * and turns everything it held into ONE outbox delivery, which the notifier sends, retries and logs
 * like any other. A window with nothing held sends nothing. Nothing is lost on a restart: held
 * notifications and the digest itself are rows.
 */
export class DigestRunner {
  constructor(private readonly ctx: AppContext, private readonly notifier: Notifier) {}

  /** Returns how many digests were queued. */
  async sendDue(now = new Date()): Promise<number> {
    let queued = 0;
    for (;;) {
      const outcome = await this.ctx.db.transaction().execute(async (tx) => {
        const channel = await store.claimDueDigest(tx, now);
        if (!channel) return 'none';
        await store.setNextDigest(tx, channel.id, nextDigestAt(channel.digest, now, channel.timezone));
        const held = await store.takeHeld(tx, channel.id);
        if (held.length === 0) return 'empty';
        const byAlert = new Map<string, string[]>();
        const notices: DigestPayload['notices'] = [];
        for (const row of held) {
          if (row.alert_id) byAlert.set(row.alert_id, [...(byAlert.get(row.alert_id) ?? []), row.event]);
          else notices.push({ ...(row.payload as unknown as NoticePayload).notice, event: row.event, createdAt: row.created_at.toISOString() });
        }
        const current = new Map((await store.alertsWithDevice(tx, [...byAlert.keys()])).map((a) => [a.id, a]));
        const alerts: DigestAlert[] = [...byAlert].flatMap(([id, events]) => {
          const alert = current.get(id);
          return alert ? [{ ...presentAlert(alert), deviceName: alert.device_name, events, link: alertLink(this.ctx.config.publicUrl, id) }] : [];
        });
        const payload: DigestPayload = {
          event: 'digest', organizationId: channel.org_id, channel: { id: channel.id, name: channel.name },
          period: { from: held[0]!.created_at.toISOString(), to: now.toISOString() }, alerts, notices, sentBy: 'vigil',
        };
        const digestId = await store.insertDigest(tx, channel.org_id, channel.id, payload as unknown as Record<string, unknown>);
        await store.markDigested(tx, held.map((row) => row.id), digestId);
        return 'queued';
      });
      if (outcome === 'none') break;
      if (outcome === 'queued') queued += 1;
    }
    if (queued > 0) await this.notifier.deliverDue();
    return queued;
  }
}
