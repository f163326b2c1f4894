import type { AppContext } from '../core/context.js';
import type { Tx } from '../core/db/database.js';
import { unseal } from '../core/secret-box.js';
import type { AlertRow } from './evaluation-store.js';
import * as store from './notifications-store.js';
import { alertEmail, digestEmail, isDigest, isNotice, noticeEmail, type AlertPayload, type NoticePayload, type Payload } from './messages.js';
import { presentAlert } from './present.js';
import { quietUntil } from './quiet-hours.js';
import type { RuleRow } from './rule-model.js';
import { existingChannels } from './rules-store.js';
import { postSignedWebhook } from './webhook.js';

const BATCH = 50;
const MAX_ATTEMPTS = 8;

/** 30 s, 1 min, 2 min … capped at an hour, with ±20 % jitter so a recovering receiver is not hit all at once. */
export function backoffMs(attempts: number): number {
  const base = Math.min(30_000 * 2 ** (attempts - 1), 3_600_000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

type Claimed = Awaited<ReturnType<typeof store.claimDue>>[number];

/**
 * Notifications through a durable outbox: alert changes, and notices from other domains (maintenance
 * reminders). Rows are written in the transaction that causes them, then delivered by `deliverDue` (a
 * leased job, and right after each change for low latency), retried with backoff, and kept as the
 * delivery log. Rows for a digest channel are held instead, for `DigestRunner` to send together.
 */
export class Notifier {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly ctx: AppContext) {}

  /**
   * Channels notified when an alert opens: all of the rule's, or only the first when it escalates.
   * A critical alert is urgent: it goes out at once even through quiet hours and digest channels.
   */
  async queueOpened(tx: Tx, alert: AlertRow, rule: RuleRow): Promise<void> {
    if (rule.org_id === null) return;
    const channels = rule.escalate_after_minutes ? rule.channel_ids.slice(0, 1) : rule.channel_ids;
    await this.queueAlert(tx, alert, channels, 'alert.opened');
  }

  /** Every channel that was told the alert opened (or escalated to it) hears that it is resolved. */
  async queueResolved(tx: Tx, alert: AlertRow): Promise<void> {
    await this.queueAlert(tx, alert, await store.channelsToldOf(tx, alert.id), 'alert.resolved');
  }

  /** The next channel of an escalating rule, for an alert nobody acknowledged in time. */
  async queueEscalation(tx: Tx, alert: AlertRow, channelId: string): Promise<void> {
    await this.queueAlert(tx, alert, [channelId], 'alert.escalated');
  }

  private async queueAlert(tx: Tx, alert: AlertRow, channelIds: string[], event: string): Promise<void> {
    const payload: AlertPayload = { event, organizationId: alert.org_id, alert: presentAlert(alert), sentBy: 'vigil' };
    await store.enqueue(tx, { orgId: alert.org_id, channelIds, alertId: alert.id, event, payload: { ...payload }, urgent: alert.severity === 'critical' });
  }

  /**
   * Queues a notification that is not about an alert (a maintenance reminder) on the organization's
   * channels (`channelIds` null: every enabled one), in the caller's transaction; digest channels hold it.
   */
  async queueNotice(tx: Tx, orgId: string, channelIds: string[] | null, payload: NoticePayload): Promise<number> {
    return store.enqueue(tx, { orgId, channelIds, alertId: null, event: payload.event, payload, urgent: false });
  }

  /** Those of `ids` that are not notification channels of the organization. */
  async unknownChannels(orgId: string, ids: string[]): Promise<string[]> {
    const known = await existingChannels(this.ctx.db, orgId, ids);
    return ids.filter((id) => !known.has(id));
  }

  /**
   * Tells whoever acknowledged an alert, in the console, that it is now resolved (unless they resolved
   * it themselves). Personal: only that user's live stream gets it. Called after the commit.
   */
  async tellAcknowledgers(resolved: AlertRow[]): Promise<void> {
    for (const alert of resolved) {
      if (!alert.acknowledged_by || alert.acknowledged_by === alert.resolved_by) continue;
      await this.ctx.bus.publish({
        type: 'alert.notification', orgId: alert.org_id, siteId: alert.site_id, requires: 'alert.read', userId: alert.acknowledged_by,
        data: { event: 'alert.resolved', reason: 'acknowledged_by_you', alert: presentAlert(alert) },
      });
    }
  }

  /** Starts a delivery round now (without waiting for it); a round already running is followed by one more. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.deliverDue().then(
      () => undefined,
      (error: unknown) => this.ctx.logger.error({ err: error }, 'alert notification delivery failed'),
    ).finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Waits for a round in progress (shutdown and tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Delivers what is due, in rounds of 50; returns how many were sent. */
  async deliverDue(): Promise<number> {
    let sent = 0;
    for (;;) {
      const due = await store.claimDue(this.ctx.db, BATCH);
      if (due.length === 0) return sent;
      await Promise.all(due.map(async (delivery) => {
        // Critical alerts go out through quiet hours; everything else (digests too) waits for them to end.
        const severity = (delivery.payload as { alert?: { severity?: string } }).alert?.severity;
        const quietEnd = severity === 'critical' ? null : quietUntil(delivery.quiet_hours, new Date(), delivery.timezone);
        if (quietEnd) return store.defer(this.ctx.db, delivery.id, quietEnd);
        try {
          const status = await this.deliver(delivery);
          await store.markDelivered(this.ctx.db, delivery.id, status);
          sent += 1;
        } catch (error) {
          const failure = error as Error & { status?: number };
          const retryAt = delivery.attempts < MAX_ATTEMPTS ? new Date(Date.now() + backoffMs(delivery.attempts)) : null;
          await store.markFailed(this.ctx.db, delivery.id, failure.message, failure.status ?? null, retryAt);
        }
      }));
      if (due.length < BATCH) return sent;
    }
  }

  private async deliver(delivery: Claimed): Promise<number | null> {
    const payload = delivery.payload as unknown as Payload;
    if (delivery.kind === 'in_app') {
      await this.ctx.bus.publish(isNotice(payload)
        ? { type: 'maintenance.reminder', orgId: delivery.org_id, siteId: payload.notice.siteId, requires: 'maintenance.read', data: { event: delivery.event, notice: payload.notice } }
        : { type: 'alert.notification', orgId: delivery.org_id, siteId: (payload as AlertPayload).alert.siteId, requires: 'alert.read', data: { event: delivery.event, alert: (payload as AlertPayload).alert } });
      return null;
    }
    if (delivery.kind === 'email') {
      const { publicUrl } = this.ctx.config;
      const email = isDigest(payload) ? digestEmail(payload, publicUrl, delivery.timezone) : isNotice(payload) ? noticeEmail(payload) : alertEmail(payload, publicUrl);
      await this.ctx.mailer.deliver({ to: delivery.recipients.join(', '), ...email });
      return null;
    }
    return this.postWebhook(delivery);
  }

  private async postWebhook(delivery: Claimed): Promise<number> {
    if (!delivery.url || !delivery.secret_sealed) throw new Error('the channel has no URL or secret');
    return postSignedWebhook(this.ctx.outbound, {
      url: delivery.url,
      secret: unseal(this.ctx.secrets.encryptionKey, delivery.secret_sealed),
      event: delivery.event,
      deliveryId: String(delivery.id),
      body: JSON.stringify({ ...delivery.payload, deliveryId: String(delivery.id), attempt: delivery.attempts }),
    });
  }

}
