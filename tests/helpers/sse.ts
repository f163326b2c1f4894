import http from 'node:http';

/** One Server-Sent Events frame as a browser's EventSource would see it (plus comments, for heartbeats). */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
  /** Parsed `data` when it is JSON. */
  json?: Record<string, unknown>;
}

/**
 * A real HTTP client for `GET /api/v1/stream`: reads and parses the event stream as it arrives and
 * lets a test wait (bounded) for an event or for the server to end the response.
 */
export class SseStream {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  ended = false;
  private buffer = '';
  private waiters: (() => void)[] = [];

  private constructor(private readonly request: http.ClientRequest, readonly response: http.IncomingMessage) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.buffer += chunk;
      let split: number;
      while ((split = this.buffer.indexOf('\n\n')) >= 0) {
        this.parse(this.buffer.slice(0, split));
        this.buffer = this.buffer.slice(split + 2);
      }
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    response.on('end', end);
    response.on('close', end);
    response.on('error', end);
  }

  /** Opens the stream; resolves once the response headers arrived (any status). */
  static open(baseUrl: string, headers: Record<string, string | undefined> = {}): Promise<SseStream> {
    const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return new Promise((resolve, reject) => {
      const request = http.get(`${baseUrl}/api/v1/stream`, { headers: { accept: 'text/event-stream', ...clean } });
      request.setTimeout(10_000, () => request.destroy(new Error('no response headers within 10 s')));
      request.once('error', reject);
      request.once('response', (response) => {
        request.setTimeout(0);
        resolve(new SseStream(request, response));
      });
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  /** The events of one type received so far. */
  of(type: string): SseEvent[] {
    return this.events.filter((e) => e.event === type);
  }

  /** Waits until an event matching `predicate` has arrived (also one received earlier); fails after `timeoutMs`. */
  async next(predicate: (event: SseEvent) => boolean, timeoutMs = 5000, what = 'event'): Promise<SseEvent> {
    const found = await this.until(() => this.events.find(predicate), timeoutMs);
    if (!found) throw new Error(`no matching ${what} within ${timeoutMs} ms; received: ${JSON.stringify(this.events)}`);
    return found;
  }

  /** Waits until a new heartbeat comment arrives after the ones already seen. */
  async heartbeat(timeoutMs = 5000): Promise<void> {
    const seen = this.comments.filter((c) => c === 'heartbeat').length;
    const ok = await this.until(() => this.comments.filter((c) => c === 'heartbeat').length > seen || undefined, timeoutMs);
    if (!ok) throw new Error(`no heartbeat within ${timeoutMs} ms`);
  }

  /** Waits for the server to end the response; returns false when it is still open after `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    return (await this.until(() => this.ended || undefined, timeoutMs)) === true;
  }

  close(): void {
    this.request.destroy();
    this.ended = true;
    this.wake();
  }

  private async until<T>(check: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0 || this.ended) return check();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.push(done);
      });
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private parse(block: string): void {
    const event: SseEvent = { event: 'message', data: '' };
    const data: string[] = [];
    let hasField = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') event.id = value;
      else if (field === 'event') event.event = value;
      else if (field === 'data') data.push(value);
      else continue;
      hasField = true;
    }
    if (!hasField || (data.length === 0 && event.id === undefined)) return;
    event.data = data.join('\n');
    try {
      event.json = JSON.parse(event.data) as Record<string, unknown>;
    } catch {
      // not JSON
    }
    this.events.push(event);
  }
}
