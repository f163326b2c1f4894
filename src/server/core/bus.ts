import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Action } from './permissions.js';

/**
 * Publish/subscribe between the parts of Vigil (ingest → live stream, auth → open streams).
 * In-process by default; Redis when several processes must see each other's messages.
 */
export interface BusMessage {
  /** Unique per message; the live stream uses it as the SSE event id. */
  id: string;
  type: string;
  /** The organization the message belongs to; null for platform messages (e.g. session revoked). */
  orgId: string | null;
  /**
   * Set when the message concerns one site, so site-restricted users only get their sites'; null when it
   * concerns a device without a site (only unrestricted users get it); absent for organization-wide news.
   */
  siteId?: string | null;
  /** The permission a recipient needs (e.g. `member.read`); absent = anyone who sees the organization. */
  requires?: Action;
  /** Set when the message is for one user only (a personal notification); absent = everyone else allowed. */
  userId?: string;
  data: Record<string, unknown>;
}

export type BusInput = Omit<BusMessage, 'id'>;
export type BusHandler = (message: BusMessage) => void;

export interface Bus {
  publish(message: BusInput): Promise<void>;
  subscribe(handler: BusHandler): () => void;
  close(): Promise<void>;
}

const processTag = randomBytes(3).toString('hex');
let sequence = 0;
function nextId(): string {
  sequence += 1;
  return `${Date.now().toString(36)}-${processTag}-${sequence.toString(36)}`;
}

export class InProcessBus implements Bus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish(message: BusInput): Promise<void> {
    this.deliver({ ...message, id: nextId() });
  }

  /**
   * Hands an already-identified message to the subscribers (the Redis bus uses it for remote messages).
   * A subscriber that throws must not keep the message from the others, fail the publisher (whose
   * change is already committed) or, for a message from Redis, crash the process.
   */
  deliver(message: BusMessage): void {
    for (const handler of this.emitter.listeners('message') as BusHandler[]) {
      try {
        handler(message);
      } catch (error) {
        console.error(`vigil: a bus subscriber failed on a "${message.type}" message:`, error);
      }
    }
  }

  subscribe(handler: BusHandler): () => void {
    this.emitter.on('message', handler);
    return () => this.emitter.off('message', handler);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/**
 * Messages are delivered in this process straight away and shared with the other processes through
 * Redis when it is up. While Redis is away, live updates stay within each process and nothing that
 * publishes fails or waits: the change behind a message is already committed. ioredis reconnects and
 * resubscribes by itself, so sharing resumes when Redis is back.
 */
export class RedisBus implements Bus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly local = new InProcessBus();
  private readonly ready: Promise<unknown>;
  /** Marks this bus's own messages on the channel, which it has already delivered locally. */
  private readonly origin = randomBytes(6).toString('hex');
  private outage = false;

  private readonly channel: string;

  constructor(url: string, prefix = 'vigil') {
    this.channel = `${prefix}:bus`;
    // No offline queue: a message queued during an outage would arrive late, after newer state.
    this.publisher = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3, enableOfflineQueue: false });
    this.publisher.on('error', () => undefined); // reported once per outage by publish
    this.subscriber = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    this.subscriber.on('error', () => undefined);
    this.ready = this.subscriber.subscribe(this.channel);
    this.subscriber.on('message', (_channel: string, payload: string) => {
      let message: BusMessage & { origin?: string };
      try {
        message = JSON.parse(payload) as BusMessage & { origin?: string };
      } catch {
        console.error(`vigil: ignored a malformed message on the Redis channel ${this.channel}`);
        return;
      }
      if (message.origin === this.origin) return;
      delete message.origin;
      this.local.deliver(message);
    });
  }

  async publish(message: BusInput): Promise<void> {
    await this.ready;
    const identified = { ...message, id: nextId() };
    this.local.deliver(identified);
    try {
      await this.publisher.publish(this.channel, JSON.stringify({ ...identified, origin: this.origin }));
      if (this.outage) console.error(`vigil: Redis is back; live updates are shared between processes again`);
      this.outage = false;
    } catch (error) {
      if (!this.outage) console.error(`vigil: Redis is unreachable; live updates reach only this process's clients until it is back:`, (error as Error).message);
      this.outage = true;
    }
  }

  subscribe(handler: BusHandler): () => void {
    return this.local.subscribe(handler);
  }

  /** Resolves once the subscription is live (messages published before that are not seen). */
  async connected(): Promise<void> {
    await this.ready;
  }

  async close(): Promise<void> {
    await this.local.close();
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }
}

export async function createBus(redisUrl?: string, prefix?: string): Promise<Bus> {
  if (!redisUrl) return new InProcessBus();
  const bus = new RedisBus(redisUrl, prefix);
  await bus.connected();
  return bus;
}
