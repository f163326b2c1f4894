import type { AppContext } from '../core/context.js';
import type { Tx } from '../core/db/database.js';
import { unseal } from '../core/secret-box.js';
import type { AlertRow } from './evaluation-store.js';
import * as store from './notifications-store.js';
import { presentAlert } from './present.js';
import { quietUntil } from './quiet-hours.js';
import type { RuleRow } from './rule-model.js';
import { SIGNATURE_HEADER, sign, urlProblem } from './webhook.js';

const BATCH = 50;
const MAX_ATTEMPTS = 8;
const WEBHOOK_TIMEOUT_MS = 10_000;

/** 30 s, 1 min, 2 min … capped at an hour, with ±20 % jitter so a recovering receiver is not hit all at once. */
export function backoffMs(attempts: number): number {
  const base = Math.min(30_000 * 2 ** (attempts - 1), 3_600_000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

type Claimed = Awaited<ReturnType<typeof store.claimDue>>[number];

/**
 * Alert notifications through a durable outbox: rows are written in the transaction that changes the
 * alert, then delivered by `deliverDue` (a leased job, and right after each change for low latency),
 * retried with backoff, and kept as the delivery log.
 */
export class Notifier {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly ctx: AppContext) {}

  /** Channels notified when an alert opens: all of the rule's, or only the first when it escalates. */
  async queueOpened(tx: Tx, alert: AlertRow, rule: RuleRow): Promise<void> {
    if (rule.org_id === null) return;
    const channels = rule.escalate_after_minutes ? rule.channel_ids.slice(0, 1) : rule.channel_ids;
    await store.enqueue(tx, alert.org_id, channels, alert.id, 'alert.opened', this.payload('alert.opened', alert));
  }

  /** Everyone told of the alert (up to its escalation level) hears that it is resolved. */
  async queueResolved(tx: Tx, alert: AlertRow): Promise<void> {
    const rule = alert.rule_id ? await store.ruleChannels(tx, alert.rule_id) : undefined;
    if (!rule) return;
    const channels = rule.escalate_after_minutes ? rule.channel_ids.slice(0, alert.escalation_level + 1) : rule.channel_ids;
    await store.enqueue(tx, alert.org_id, channels, alert.id, 'alert.resolved', this.payload('alert.resolved', alert));
  }

  /** The next channel of an escalating rule, for an alert nobody acknowledged in time. */
  async queueEscalation(tx: Tx, alert: AlertRow, channelId: string): Promise<void> {
    await store.enqueue(tx, alert.org_id, [channelId], alert.id, 'alert.escalated', this.payload('alert.escalated', alert));
  }

  private payload(event: string, alert: AlertRow): Record<string, unknown> {
    return { event, organizationId: alert.org_id, alert: presentAlert(alert), sentBy: 'vigil' };
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
    const payload = delivery.payload as { alert: ReturnType<typeof presentAlert> };
    if (delivery.kind === 'in_app') {
      await this.ctx.bus.publish({
        type: 'alert.notification', orgId: delivery.org_id, siteId: payload.alert.siteId, requires: 'alert.read',
        data: { event: delivery.event, alert: payload.alert },
      });
      return null;
    }
    if (delivery.kind === 'email') {
      const { alert } = payload;
      const what = delivery.event === 'alert.resolved' ? 'Resolved' : delivery.event === 'alert.escalated' ? 'Escalated' : alert.severity.toUpperCase();
      await this.ctx.mailer.deliver({
        to: delivery.recipients.join(', '),
        subject: `[Vigil] ${what}: ${alert.message}`,
        text: [
          alert.message, '',
          `Rule: ${alert.ruleName}`, `Severity: ${alert.severity}`, `Status: ${alert.status}`,
          `Started: ${alert.startedAt}`, `Latest value: ${alert.latestValue ?? '–'} (peak ${alert.peakValue ?? '–'})`,
          alert.resolvedAt ? `Resolved: ${alert.resolvedAt}` : '',
          '', `${this.ctx.config.publicUrl.replace(/\/$/, '')}/alerts/${alert.id}`,
        ].filter((line, i, all) => line !== '' || all[i - 1] !== '').join('\n'),
      });
      return null;
    }
    return this.postWebhook(delivery);
  }

  private async postWebhook(delivery: Claimed): Promise<number> {
    if (!delivery.url || !delivery.secret_sealed) throw new Error('the channel has no URL or secret');
    const problem = await urlProblem(delivery.url, await store.allowsPrivateWebhooks(this.ctx.db, delivery.org_id));
    if (problem) throw new Error(`webhook URL ${problem}`);
    const body = JSON.stringify({ ...delivery.payload, deliveryId: String(delivery.id), attempt: delivery.attempts });
    const response = await fetch(delivery.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Vigil-Webhooks/1',
        [SIGNATURE_HEADER]: sign(unseal(this.ctx.secrets.encryptionKey, delivery.secret_sealed), body),
        'x-vigil-event': delivery.event,
        'x-vigil-delivery': String(delivery.id),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (response.status < 200 || response.status >= 300) {
      throw Object.assign(new Error(`the receiver answered ${response.status}`), { status: response.status });
    }
    return response.status;
  }
}
