import { setTimeout as delay } from 'node:timers/promises';

/** The simulator's HTTP plumbing: deadlines, bounded reads, retry delays, a concurrency limit and error wording. */

/** How long to wait before retry `attempt`: the server's Retry-After (seconds or a date), else exponential; at most `capMs`. */
export function retryAfterMs(header: string | null, attempt: number, capMs: number): number {
  const cap = capMs;
  if (header !== null) {
    const trimmed = header.trim();
    if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, cap);
    const date = Date.parse(trimmed);
    if (!Number.isNaN(date)) return Math.min(Math.max(date - Date.now(), 0), cap);
  }
  return Math.min(1000 * 2 ** attempt, cap);
}

/** Runs `work` with a signal that aborts after `timeoutMs` or with `parent`; the listener on `parent` is removed afterwards. */
export async function withDeadline<T>(parent: AbortSignal, timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  const onAbort = () => controller.abort(new Error('stopped'));
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
    parent.removeEventListener('abort', onAbort);
  }
}

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** The response body as text, or '' when it exceeds 4 MiB (no Vigil answer is that large; the rest is discarded). */
export async function readBounded(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      return '';
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** A counting semaphore; its waiters are bounded by the number of devices (one request per device at a time). */
export class Semaphore {
  private waiters: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free += 1;
  }
}

export function failureReason(error: unknown): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  const cause = err.cause ? ` (${err.cause.code ?? err.cause.message})` : '';
  return `${err.message ?? String(error)}${cause}`;
}

export function describe(json: unknown): string {
  if (!json || typeof json !== 'object') return '';
  const body = json as { detail?: unknown; error?: { message?: unknown } };
  const message = body.error?.message ?? body.detail;
  if (message === undefined) return '';
  return `: ${typeof message === 'string' ? message : JSON.stringify(message)}`.slice(0, 300);
}
