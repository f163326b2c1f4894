import type { ServerResponse } from 'node:http';
import type { Frame } from '../decoder/frame-hub.js';

/** The part boundary of the MJPEG answer (`multipart/x-mixed-replace; boundary=…`). */
export const MJPEG_BOUNDARY = 'vigil-frame';
export const MJPEG_CONTENT_TYPE = `multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`;

function part(frame: Frame): Buffer {
  const head = `--${MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${frame.jpeg.length}\r\nX-Frame-Time: ${new Date(frame.at).toISOString()}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), frame.jpeg, Buffer.from('\r\n')]);
}

/**
 * Writes frames to one viewer as MJPEG without letting a slow viewer grow the server's memory: while the
 * previous frame is still waiting in the socket's buffer, a new frame is held back instead of written, and a
 * newer one replaces it (the older is dropped). When the socket drains, the newest held frame goes out, so
 * a viewer always sees the latest picture, at the rate its connection can take.
 */
export class MjpegWriter {
  /** Frames written to the socket. */
  sent = 0;
  /** Frames skipped because the viewer had not taken the previous one yet. */
  dropped = 0;
  private waitingForDrain = false;
  private held: Frame | null = null;
  private ended = false;

  constructor(private readonly raw: ServerResponse, private readonly onDrop: () => void = () => undefined) {
    raw.on('drain', () => {
      this.waitingForDrain = false;
      const held = this.held;
      this.held = null;
      if (held) this.write(held);
    });
  }

  deliver(frame: Frame): void {
    if (this.ended) return;
    if (this.waitingForDrain) {
      if (this.held) this.drop();
      this.held = frame;
      return;
    }
    this.write(frame);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.held = null;
    this.raw.end();
  }

  private write(frame: Frame): void {
    this.sent += 1;
    // false: more than the socket's high-water mark is buffered; hold later frames until 'drain'.
    if (!this.raw.write(part(frame))) this.waitingForDrain = true;
  }

  private drop(): void {
    this.dropped += 1;
    this.onDrop();
  }
}
