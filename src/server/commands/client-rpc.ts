import type { SessionLimits } from './session-limits.js';

/**
 * Client-side RPC: a device asks Vigil something (ThingsBoard's `v1/devices/me/rpc/request/{id}` from the
 * device, or `POST /api/v1/{token}/rpc`). Vigil answers `getCurrentTime` with its clock in epoch
 * milliseconds, which ThingsBoard's SDKs use to set a device's clock, and `getSessionLimits` with the limits
 * of the device's connection (session-limits.ts), which newer SDKs ask for on connecting to size their
 * messages and pace; every other method gets an error.
 */
export type ClientRpcAnswer = { ok: true; result: unknown } | { ok: false; error: string };

export const CLIENT_METHODS = ['getCurrentTime', 'getSessionLimits'] as const;

/** `limits`: those of the connection the request came over (MQTT or HTTP). */
export function answerClientRequest(body: unknown, limits: SessionLimits, now = Date.now()): ClientRpcAnswer {
  const method = body && typeof body === 'object' && !Array.isArray(body) ? (body as { method?: unknown }).method : undefined;
  if (typeof method !== 'string' || method === '') return { ok: false, error: 'a request is {"method": "…", "params": {…}}' };
  if (method === 'getCurrentTime') return { ok: true, result: now };
  if (method === 'getSessionLimits') return { ok: true, result: limits };
  return { ok: false, error: `unknown method ${JSON.stringify(method.slice(0, 128))}; Vigil answers ${CLIENT_METHODS.join(', ')}` };
}
