import http from 'node:http';

/** One part of an MJPEG answer. */
export interface MjpegPart {
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A real HTTP client for an MJPEG (`multipart/x-mixed-replace`) answer, as an `<img>` reads it: parses the
 * parts as they arrive and lets a test wait (bounded) for parts or for the server to end the answer.
 */
export class MjpegStream {
  readonly parts: MjpegPart[] = [];
  ended = false;
  private buffer = Buffer.alloc(0);
  private readonly delimiter: Buffer;

  private constructor(private readonly request: http.ClientRequest, readonly response: http.IncomingMessage) {
    const boundary = /boundary=([^;]+)/.exec(String(response.headers['content-type']))?.[1];
    this.delimiter = Buffer.from(`--${boundary ?? 'none'}\r\n`);
    response.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    const end = () => (this.ended = true);
    response.on('end', end);
    response.on('close', end);
    response.on('error', end);
  }

  /** Opens the stream; resolves once the response headers arrived (any status). */
  static open(url: string, headers: Record<string, string | undefined> = {}): Promise<MjpegStream> {
    const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return new Promise((resolve, reject) => {
      const request = http.get(url, { headers: { accept: 'image/*', ...clean } });
      request.setTimeout(10_000, () => request.destroy(new Error('no response headers within 10 s')));
      request.once('error', reject);
      request.once('response', (response) => {
        request.setTimeout(0);
        resolve(new MjpegStream(request, response));
      });
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  /** The body of a refused request (JSON error), once it ended. */
  text(): string {
    return this.buffer.toString('utf8');
  }

  async waitForParts(count: number, timeoutMs = 15_000): Promise<boolean> {
    return this.until(() => this.parts.length >= count, timeoutMs);
  }

  /** True when the server ended the answer within `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    return this.until(() => this.ended, timeoutMs);
  }

  pause(): void {
    this.response.pause();
  }

  resume(): void {
    this.response.resume();
  }

  close(): void {
    this.request.destroy();
  }

  private async until(check: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  private parse(): void {
    if (this.status !== 200) return;
    for (;;) {
      const start = this.buffer.indexOf(this.delimiter);
      if (start < 0) return;
      const headEnd = this.buffer.indexOf('\r\n\r\n', start);
      if (headEnd < 0) return;
      const headers = Object.fromEntries(this.buffer.subarray(start + this.delimiter.length, headEnd).toString('latin1').split('\r\n').map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
      }));
      const length = Number(headers['content-length']);
      const bodyStart = headEnd + 4;
      if (!Number.isInteger(length) || this.buffer.length < bodyStart + length + 2) return;
      this.parts.push({ headers, body: Buffer.from(this.buffer.subarray(bodyStart, bodyStart + length)) });
      this.buffer = this.buffer.subarray(bodyStart + length + 2);
    }
  }
}

/** GET with real HTTP, the whole body as bytes. */
export function getBytes(url: string, headers: Record<string, string | undefined> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return new Promise((resolve, reject) => {
    http.get(url, { headers: clean }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    }).on('error', reject);
  });
}
