import { createHmac } from 'node:crypto';
import type { OutboundHttp } from '../core/outbound-http.js';

/**
 * Webhook plumbing: the signature receivers verify, and the signed POST. Which addresses a webhook may
 * reach is the platform's rule (`core/outbound-http.ts`), not the organization's.
 */
export const SIGNATURE_HEADER = 'x-vigil-signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the channel's secret>`, as Stripe signs. */
export function sign(secret: string, body: string, at = Date.now()): string {
  const t = Math.floor(at / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

const WEBHOOK_TIMEOUT_MS = 10_000;

export interface SignedWebhook {
  url: string;
  /** The receiver's shared secret (unsealed). */
  secret: string;
  /** Sent as x-vigil-event. */
  event: string;
  /** Sent as x-vigil-delivery: receivers use it to drop a redelivery they already handled. */
  deliveryId: string;
  body: string;
}

/**
 * POSTs a signed JSON body, after checking the URL again (DNS may have changed since it was saved), to
 * the address that was checked. Redirects are not followed (they could lead to a private address).
 * Resolves to the receiver's 2xx status; throws, with `status` when there was an answer, otherwise.
 */
export async function postSignedWebhook(outbound: OutboundHttp, webhook: SignedWebhook): Promise<number> {
  const status = await outbound.post(webhook.url, {
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Vigil-Webhooks/1',
      [SIGNATURE_HEADER]: sign(webhook.secret, webhook.body),
      'x-vigil-event': webhook.event,
      'x-vigil-delivery': webhook.deliveryId,
    },
    body: webhook.body,
    timeoutMs: WEBHOOK_TIMEOUT_MS,
  });
  if (status < 200 || status >= 300) throw Object.assign(new Error(`the receiver answered ${status}`), { status });
  return status;
}
