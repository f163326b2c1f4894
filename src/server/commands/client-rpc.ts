/**
 * Client-side RPC: a device asks Vigil something (ThingsBoard's `v1/devices/me/rpc/request/{id}` from the
 * device, or `POST /api/v1/{token}/rpc`). Vigil answers `getCurrentTime` with its clock in epoch
 * milliseconds, which ThingsBoard's SDKs use to set a device's clock; every other method gets an error.
 */
export type ClientRpcAnswer = { ok: true; result: unknown } | { ok: false; error: string };

export const CLIENT_METHODS = ['getCurrentTime'] as const;

export function answerClientRequest(body: unknown, now = Date.now()): ClientRpcAnswer {
  const method = body && typeof body === 'object' && !Array.isArray(body) ? (body as { method?: unknown }).method : undefined;
  if (typeof method !== 'string' || method === '') return { ok: false, error: 'a request is {"method": "…", "params": {…}}' };
  if (method === 'getCurrentTime') return { ok: true, result: now };
  return { ok: false, error: `unknown method ${JSON.stringify(method.slice(0, 128))}; Vigil answers ${CLIENT_METHODS.join(', ')}` };
}
