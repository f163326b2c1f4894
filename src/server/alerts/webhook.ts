import { createHmac } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Webhook plumbing: the signature receivers verify, and the address check that keeps an
 * organization's webhook from reaching into the server's own network (SSRF).
 */
export const SIGNATURE_HEADER = 'x-vigil-signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the channel's secret>`, as Stripe signs. */
export function sign(secret: string, body: string, at = Date.now()): string {
  const t = Math.floor(at / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) PRIVATE.addSubnet(net, prefix, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  return PRIVATE.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Why a webhook URL may not be used, or null when it may: only http(s), and (unless the
 * organization allowed it) no host that is or resolves to a private, loopback or link-local address.
 * Checked when the channel is saved and again before each delivery (DNS may have changed).
 */
export async function urlProblem(raw: string, allowPrivate: boolean): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (url.username || url.password) return 'must not carry credentials; the signature authenticates Vigil';
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else if (host === 'localhost' || host.endsWith('.localhost')) addresses = ['127.0.0.1'];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      return `its host "${host}" does not resolve`;
    }
  }
  if (addresses.some(isPrivateAddress)) {
    return 'points at a private, loopback or link-local address; an administrator can allow private webhooks in the alert settings';
  }
  return null;
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
  allowPrivate: boolean;
}

/**
 * POSTs a signed JSON body, after checking the URL again (DNS may have changed since it was saved).
 * Redirects are not followed (they could lead to a private address). Resolves to the receiver's 2xx
 * status; throws, with `status` when there was an answer, otherwise.
 */
export async function postSignedWebhook(webhook: SignedWebhook): Promise<number> {
  const problem = await urlProblem(webhook.url, webhook.allowPrivate);
  if (problem) throw new Error(`webhook URL ${problem}`);
  const response = await fetch(webhook.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Vigil-Webhooks/1',
      [SIGNATURE_HEADER]: sign(webhook.secret, webhook.body),
      'x-vigil-event': webhook.event,
      'x-vigil-delivery': webhook.deliveryId,
    },
    body: webhook.body,
    redirect: 'manual',
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (response.status < 200 || response.status >= 300) throw Object.assign(new Error(`the receiver answered ${response.status}`), { status: response.status });
  return response.status;
}
