import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createBus, InProcessBus, RedisBus, type Bus, type BusMessage } from '../src/server/core/bus.js';

const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** Collects what one subscriber receives and lets the test wait (bounded) for a message. */
class Inbox {
  readonly messages: BusMessage[] = [];
  readonly unsubscribe: () => void;
  constructor(bus: Bus) {
    this.unsubscribe = bus.subscribe((message) => this.messages.push(message));
  }
  tags(): unknown[] {
    return this.messages.map((m) => m.data.tag);
  }
  async waitFor(tag: string, timeoutMs = 3000): Promise<BusMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => m.data.tag === tag);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`message ${tag} not received within ${timeoutMs} ms (got ${JSON.stringify(this.tags())})`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

let counter = 0;
function tag(): string {
  counter += 1;
  return `t${counter}`;
}

/**
 * The contract every bus keeps. `open` returns a fresh bus; `peer` (Redis only) a second bus as
 * another Vigil process on the same deployment would create it.
 */
function busContract(name: string, open: () => Promise<Bus>) {
  describe(`${name}: the bus contract`, () => {
    let bus: Bus;
    before(async () => {
      bus = await open();
    });
    after(async () => bus.close());

    it('delivers each published message, with all its fields, to every subscriber', async () => {
      const first = new Inbox(bus);
      const second = new Inbox(bus);
      const t = tag();
      await bus.publish({ type: 'reading.created', orgId: 'org-1', siteId: 'site-1', requires: 'member.read', data: { tag: t, value: 1.5, nested: { ok: true } } });
      const a = await first.waitFor(t);
      const b = await second.waitFor(t);
      assert.deepEqual(a, b, 'both subscribers see the same message, id included');
      assert.equal(a.type, 'reading.created');
      assert.equal(a.orgId, 'org-1');
      assert.equal(a.siteId, 'site-1');
      assert.equal(a.requires, 'member.read');
      assert.deepEqual(a.data, { tag: t, value: 1.5, nested: { ok: true } });
      assert.equal(typeof a.id, 'string');
      assert.ok(a.id.length > 0);
      first.unsubscribe();
      second.unsubscribe();
    });

    it('gives every message its own id, in publishing order', async () => {
      const inbox = new Inbox(bus);
      const tags = Array.from({ length: 50 }, () => tag());
      await Promise.all(tags.map((t) => bus.publish({ type: 'tick', orgId: 'org-1', data: { tag: t } })));
      await inbox.waitFor(tags.at(-1)!);
      assert.deepEqual(inbox.tags(), tags);
      assert.equal(new Set(inbox.messages.map((m) => m.id)).size, tags.length, 'ids are unique');
      inbox.unsubscribe();
    });

    it('stops delivering to a subscriber once it unsubscribes, and only to that one', async () => {
      const leaving = new Inbox(bus);
      const staying = new Inbox(bus);
      const before = tag();
      await bus.publish({ type: 'tick', orgId: null, data: { tag: before } });
      await leaving.waitFor(before);
      leaving.unsubscribe();
      leaving.unsubscribe(); // idempotent
      const afterwards = tag();
      await bus.publish({ type: 'tick', orgId: null, data: { tag: afterwards } });
      // Every subscriber receives a message in the same delivery: once `staying` has it, `leaving` would too.
      await staying.waitFor(afterwards);
      assert.deepEqual(leaving.tags(), [before]);
      assert.deepEqual(staying.tags(), [before, afterwards]);
      staying.unsubscribe();
    });

    it('a subscriber that throws neither keeps the message from the others nor fails the publisher', async () => {
      const before = new Inbox(bus);
      const unsubscribeFaulty = bus.subscribe(() => {
        throw new Error('faulty subscriber');
      });
      const afterwards = new Inbox(bus);
      const reported = await capturingConsoleErrors(async () => {
        const t = tag();
        await bus.publish({ type: 'tick', orgId: null, data: { tag: t } });
        await before.waitFor(t);
        await afterwards.waitFor(t);
      });
      assert.ok(reported.some((line) => line.includes('faulty subscriber')), 'the failure is reported');
      unsubscribeFaulty();
      before.unsubscribe();
      afterwards.unsubscribe();
    });
  });
}

/** Runs `work` while collecting what is written with console.error (and keeps it out of the test output). */
async function capturingConsoleErrors(work: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void lines.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  try {
    await work();
  } finally {
    console.error = original;
  }
  return lines;
}

busContract('InProcessBus', async () => new InProcessBus());
busContract('RedisBus', async () => connectRedisBus());

describe('InProcessBus without Redis', () => {
  it('createBus without a Redis URL is the in-process bus, and a closed bus delivers nothing', async () => {
    const bus = await createBus(undefined);
    assert.ok(bus instanceof InProcessBus);
    const inbox = new Inbox(bus);
    await bus.close();
    await bus.publish({ type: 'tick', orgId: null, data: { tag: tag() } });
    assert.equal(inbox.messages.length, 0);
  });
});

/** A RedisBus that is subscribed; fails the test (it does not skip) when Redis is unreachable. */
async function connectRedisBus(prefix = `vigil-bus-test-${randomBytes(4).toString('hex')}`): Promise<RedisBus> {
  const bus = new RedisBus(REDIS_URL, prefix);
  try {
    await withTimeout(bus.connected(), 5000, 'no subscription within 5 s');
  } catch (error) {
    await bus.close();
    throw new Error(`Redis at ${REDIS_URL} is not reachable (set TEST_REDIS_URL): ${(error as Error).message}`);
  }
  return bus;
}

describe('RedisBus across processes', () => {
  const prefix = `vigil-bus-test-${randomBytes(4).toString('hex')}`;
  let web: RedisBus;
  let worker: RedisBus;
  before(async () => {
    // Two buses on one prefix stand for two Vigil processes of one deployment (e.g. web and worker).
    web = await connectRedisBus(prefix);
    worker = await connectRedisBus(prefix);
  });
  after(async () => {
    await web?.close();
    await worker?.close();
  });

  it('Redis is reachable at the test URL', async () => {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
    try {
      await withTimeout(redis.connect(), 5000, 'connect timed out');
      assert.equal(await redis.ping(), 'PONG');
    } finally {
      redis.disconnect();
    }
  });

  it("a message published by one process reaches the other process's subscribers and its own", async () => {
    const remote = new Inbox(worker);
    const local = new Inbox(web);
    const t = tag();
    await web.publish({ type: 'reading.created', orgId: 'org-1', siteId: null, data: { tag: t } });
    const there = await remote.waitFor(t);
    const here = await local.waitFor(t);
    assert.equal(there.id, here.id, 'the same id in every process, so Last-Event-ID works behind a load balancer');
    assert.equal(there.siteId, null);

    const back = tag();
    await worker.publish({ type: 'reading.created', orgId: 'org-1', data: { tag: back } });
    await local.waitFor(back);
    assert.notEqual((await remote.waitFor(back)).id, there.id);
    remote.unsubscribe();
    local.unsubscribe();
  });

  it('ids stay unique when both processes publish at once', async () => {
    const inbox = new Inbox(worker);
    const tags = Array.from({ length: 40 }, () => tag());
    await Promise.all(tags.map((t, i) => (i % 2 ? web : worker).publish({ type: 'tick', orgId: 'org-1', data: { tag: t } })));
    for (const t of tags) await inbox.waitFor(t);
    assert.equal(new Set(inbox.messages.map((m) => m.id)).size, tags.length);
    inbox.unsubscribe();
  });

  it('a malformed payload on the channel (say, from another tool) is ignored and delivery goes on', async () => {
    const inbox = new Inbox(worker);
    const raw = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const t = tag();
      const reported = await capturingConsoleErrors(async () => {
        await raw.publish(`${prefix}:bus`, 'this is not JSON');
        await web.publish({ type: 'tick', orgId: 'org-1', data: { tag: t } });
        await inbox.waitFor(t);
      });
      assert.deepEqual(inbox.tags(), [t]);
      assert.ok(reported.some((line) => line.includes('malformed')));
    } finally {
      raw.disconnect();
      inbox.unsubscribe();
    }
  });

  it('a deployment with another prefix on the same Redis does not receive the messages', async () => {
    const stranger = await connectRedisBus();
    try {
      const outsider = new Inbox(stranger);
      const insider = new Inbox(worker);
      const t = tag();
      await web.publish({ type: 'tick', orgId: 'org-1', data: { tag: t } });
      await insider.waitFor(t);
      const own = tag();
      await stranger.publish({ type: 'tick', orgId: 'org-1', data: { tag: own } });
      await outsider.waitFor(own);
      assert.deepEqual(outsider.tags(), [own]);
      insider.unsubscribe();
    } finally {
      await stranger.close();
    }
  });
});
