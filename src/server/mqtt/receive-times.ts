import { createHash } from 'node:crypto';
import type { PublishPacket } from 'aedes';
import { receiveClock } from '../ingest/receive-clock.js';
import type { IncomingMessage } from './processor.js';

/**
 * The receive times given to a message's items without a timestamp, remembered per (connection, packet
 * id, payload) for a few minutes so that a QoS 1/2 retransmission of a "now" message gets the same
 * times and is recognised as a duplicate instead of being stored again. Times are kept in two
 * generations that rotate every half TTL (or when full): lookups and expiry cost O(1), with no scan of old entries.
 */
export class ReceiveTimes {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private rotatedAt = Date.now();
  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly max = 50_000,
  ) {}

  /** The message's first receive time, reserved (and remembered) only when an item asks for it. */
  of(clientId: string, packet: PublishPacket, payload: Buffer): IncomingMessage['receivedAt'] {
    let first: number | undefined;
    return (deviceId, count) => (first ??= this.lookup(clientId, packet, payload, () => receiveClock.reserve(deviceId, count)));
  }

  private lookup(clientId: string, packet: PublishPacket, payload: Buffer, reserve: () => number): number {
    if (!packet.qos || packet.messageId === undefined) return reserve();
    const now = Date.now();
    if (now - this.rotatedAt >= this.ttlMs / 2 || this.current.size >= this.max / 2) {
      this.previous = this.current;
      this.current = new Map();
      this.rotatedAt = now;
    }
    const key = `${clientId}|${packet.messageId}|${createHash('sha256').update(payload).digest('base64url')}`;
    const known = this.current.get(key) ?? this.previous.get(key);
    if (known !== undefined) return known;
    const first = reserve();
    this.current.set(key, first);
    return first;
  }
}
