import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BusInput } from '../src/server/core/bus.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { SseStream, type SseEvent } from './helpers/sse.js';

/**
 * The live stream over real HTTP on a real port: what each caller receives, resume with
 * Last-Event-ID, and when the server closes the connection.
 */
describe('live stream (GET /api/v1/stream)', () => {
  let app: TestApp;
  let baseUrl: string;
  const streams: SseStream[] = [];
  let counter = 0;

  before(async () => {
    app = await startTestApp({ streamHeartbeatSeconds: 1 });
    await app.runtime.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.runtime.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const stream of streams) stream.close();
    await app.close();
  });

  async function open(who: SignedIn | { cookie?: string }, headers: Record<string, string> = {}): Promise<SseStream> {
    const cookie = 'client' in who ? who.client.cookie : who.cookie;
    const stream = await SseStream.open(baseUrl, { cookie, ...headers });
    streams.push(stream);
    return stream;
  }

  /** Publishes a message tagged with a unique `n` so the test can recognise it in a stream. */
  async function publish(message: Omit<BusInput, 'data'> & { data?: Record<string, unknown> }): Promise<string> {
    counter += 1;
    const tag = `m${counter}`;
    await app.runtime.ctx.bus.publish({ ...message, data: { ...message.data, tag } });
    return tag;
  }
  const tagged = (tag: string) => (e: SseEvent) => e.json?.tag === tag;
  const tagsOf = (stream: SseStream) => stream.events.map((e) => e.json?.tag).filter((t) => t !== undefined);

  it('refuses a caller without a valid session with 401', async () => {
    const anonymous = await open({});
    assert.equal(anonymous.status, 401);
    assert.equal(await anonymous.closedWithin(5000), true);
    const forged = await open({ cookie: 'vigil_session=not-a-real-session' });
    assert.equal(forged.status, 401);
  });

  it("delivers my organization's messages as SSE frames and never another organization's", async () => {
    const acme = await app.owner('Acme');
    const globex = await app.owner('Globex');
    const acmeStream = await open(acme);
    const globexStream = await open(globex);
    assert.equal(acmeStream.status, 200);
    assert.match(String(acmeStream.response.headers['content-type']), /^text\/event-stream/);
    assert.match(String(acmeStream.response.headers['cache-control']), /no-cache/, 'proxies must not cache or buffer it');

    const secret = await publish({ type: 'reading.created', orgId: globex.orgId, data: { value: 42 } });
    const platform = await publish({ type: 'platform.notice', orgId: null });
    const mine = await publish({ type: 'reading.created', orgId: acme.orgId, data: { value: 7 } });

    const received = await acmeStream.next(tagged(mine), 5000, 'own message');
    assert.equal(received.event, 'reading.created');
    assert.ok(received.id, 'each frame carries an id for Last-Event-ID');
    assert.deepEqual(received.json, { value: 7, tag: mine, siteId: null });
    await globexStream.next(tagged(secret), 5000, "globex's message");

    // A last marker per stream: everything published before it has been delivered (or filtered) by now.
    const acmeEnd = await publish({ type: 'marker', orgId: acme.orgId });
    const globexEnd = await publish({ type: 'marker', orgId: globex.orgId });
    await acmeStream.next(tagged(acmeEnd));
    await globexStream.next(tagged(globexEnd));
    assert.deepEqual(tagsOf(acmeStream), [mine, acmeEnd]);
    assert.deepEqual(tagsOf(globexStream), [secret, globexEnd]);
    assert.ok(!tagsOf(acmeStream).includes(platform) && !tagsOf(globexStream).includes(platform));
    assert.notEqual(acmeStream.events[0]!.id, acmeStream.events[1]!.id);
  });

  it("a site-restricted viewer gets only their sites' messages and none that need a permission they lack", async () => {
    const owner = await app.owner();
    const north = (await owner.client.post('/api/v1/sites', { name: 'North depot' })).body.id as string;
    const south = (await owner.client.post('/api/v1/sites', { name: 'South depot' })).body.id as string;
    assert.ok(north && south);
    const viewer = await app.member(owner, 'viewer', [north]);
    const ownerStream = await open(owner);
    const viewerStream = await open(viewer);
    assert.equal(viewerStream.status, 200);

    const southReading = await publish({ type: 'reading.created', orgId: owner.orgId, siteId: south });
    const memberJoined = await publish({ type: 'member.joined', orgId: owner.orgId, requires: 'member.read', data: { email: 'x@example.com' } });
    const northReading = await publish({ type: 'reading.created', orgId: owner.orgId, siteId: north });
    const siteless = await publish({ type: 'reading.created', orgId: owner.orgId, siteId: null });
    const orgWide = await publish({ type: 'org.updated', orgId: owner.orgId });

    const last = await viewerStream.next(tagged(orgWide), 5000, 'org-wide message');
    assert.equal(last.json?.siteId, null);
    await ownerStream.next(tagged(orgWide));
    assert.deepEqual(tagsOf(viewerStream), [northReading, orgWide], 'not a device without a site either');
    assert.equal(viewerStream.events.find(tagged(northReading))?.json?.siteId, north);
    assert.deepEqual(tagsOf(ownerStream), [southReading, memberJoined, northReading, siteless, orgWide], 'the owner sees everything');
  });

  it('a reconnect with Last-Event-ID replays what was missed, filtered like live messages, then continues live', async () => {
    const owner = await app.owner();
    const other = await app.owner();
    const north = (await owner.client.post('/api/v1/sites', { name: 'North' })).body.id as string;
    const south = (await owner.client.post('/api/v1/sites', { name: 'South' })).body.id as string;
    const viewer = await app.member(owner, 'viewer', [north]);

    // Another tab of the owner stays connected throughout and tells when the server has seen a message.
    const witness = await open(owner);
    const ownerStream = await open(owner);
    const viewerStream = await open(viewer);
    const seen = await publish({ type: 'reading.created', orgId: owner.orgId, siteId: north });
    const ownerLast = (await ownerStream.next(tagged(seen))).id!;
    const viewerLast = (await viewerStream.next(tagged(seen))).id!;
    assert.equal(ownerLast, viewerLast, 'one message has one id for every recipient');
    ownerStream.close();
    viewerStream.close();

    const missed = [
      await publish({ type: 'reading.created', orgId: owner.orgId, siteId: south }),
      await publish({ type: 'reading.created', orgId: other.orgId }),
      await publish({ type: 'member.joined', orgId: owner.orgId, requires: 'member.read' }),
      await publish({ type: 'reading.created', orgId: owner.orgId, siteId: north }),
      await publish({ type: 'org.updated', orgId: owner.orgId }),
    ];
    await witness.next(tagged(missed[4]!));

    const ownerAgain = await open(owner, { 'last-event-id': ownerLast });
    const viewerAgain = await open(viewer, { 'last-event-id': viewerLast });
    await ownerAgain.next(tagged(missed[4]!), 5000, 'replayed message');
    await viewerAgain.next(tagged(missed[4]!), 5000, 'replayed message');
    assert.deepEqual(tagsOf(ownerAgain), [missed[0], missed[2], missed[3], missed[4]], 'in order, without the other organization\'s');
    assert.deepEqual(tagsOf(viewerAgain), [missed[3], missed[4]], 'only what the viewer may see');
    assert.deepEqual(
      ownerAgain.events.map((e) => e.id),
      witness.events.filter((e) => e.json?.tag !== seen).map((e) => e.id),
      'replayed frames keep their original ids',
    );

    const live = await publish({ type: 'reading.created', orgId: owner.orgId, siteId: north });
    await ownerAgain.next(tagged(live));
    await viewerAgain.next(tagged(live));
    assert.equal(ownerAgain.of('reset').length, 0);
  });

  it('an unknown Last-Event-ID is answered with a reset event, and the stream stays live', async () => {
    const owner = await app.owner();
    const stream = await open(owner, { 'last-event-id': 'no-such-event-id' });
    assert.equal(stream.status, 200);
    const reset = await stream.next((e) => e.event === 'reset', 5000, 'reset event');
    assert.match(String(reset.json?.reason), /no longer available/);
    const live = await publish({ type: 'reading.created', orgId: owner.orgId });
    await stream.next(tagged(live));
  });

  it('signing out closes that session\'s open stream at once; another session of the same user stays open', async () => {
    const owner = await app.owner();
    const laptop = app.client();
    assert.equal((await laptop.login(owner.email, owner.password)).status, 200);
    const stream = await open(owner);
    const laptopStream = await open({ cookie: laptop.cookie });
    const cookie = owner.client.cookie;
    // Sign out just after a heartbeat, so a prompt close cannot be the next heartbeat's recheck.
    await stream.heartbeat();
    assert.equal((await owner.client.post('/api/v1/auth/logout')).status, 204);
    assert.equal(await stream.closedWithin(900), true, 'the stream is closed before the next heartbeat');
    assert.deepEqual(stream.of('closed').map((e) => e.json), [{ reason: 'session revoked' }], 'closed by the sign-out itself, not by a heartbeat');

    await laptopStream.heartbeat(3000);
    assert.equal(laptopStream.ended, false, "the laptop's session is untouched");
    const live = await publish({ type: 'reading.created', orgId: owner.orgId });
    await laptopStream.next(tagged(live));
    assert.equal((await open({ cookie })).status, 401, 'the old cookie cannot reconnect');
  });

  it('a change of the member\'s sites closes the stream at the next heartbeat so the client reconnects with its new access', async () => {
    const owner = await app.owner();
    const north = (await owner.client.post('/api/v1/sites', { name: 'North' })).body.id as string;
    const south = (await owner.client.post('/api/v1/sites', { name: 'South' })).body.id as string;
    const viewer = await app.member(owner, 'viewer', [north]);
    const stream = await open(viewer);
    await stream.heartbeat(3000);
    assert.equal(stream.ended, false, 'unchanged access keeps the stream open across heartbeats');

    assert.equal((await owner.client.patch(`/api/v1/members/${viewer.userId}`, { siteIds: [south] })).status, 200);
    assert.equal(await stream.closedWithin(3000), true);
    assert.deepEqual(stream.of('closed').map((e) => e.json), [{ reason: 'access changed; reconnect' }]);

    const again = await open(viewer);
    const southReading = await publish({ type: 'reading.created', orgId: owner.orgId, siteId: south });
    const northReading = await publish({ type: 'reading.created', orgId: owner.orgId, siteId: north });
    const marker = await publish({ type: 'marker', orgId: owner.orgId });
    await again.next(tagged(marker));
    assert.deepEqual(tagsOf(again), [southReading, marker]);
    assert.ok(!tagsOf(again).includes(northReading));
  });
});

describe('live stream during shutdown', () => {
  it('closing the server ends open streams instead of waiting for the clients to leave', async () => {
    const app = await startTestApp({ streamHeartbeatSeconds: 1 });
    let closed = false;
    try {
      await app.runtime.app.listen({ port: 0, host: '127.0.0.1' });
      const baseUrl = `http://127.0.0.1:${(app.runtime.app.server.address() as AddressInfo).port}`;
      const owner = await app.owner();
      const stream = await SseStream.open(baseUrl, { cookie: owner.client.cookie });
      assert.equal(stream.status, 200);
      try {
        const started = Date.now();
        const closing = app.close().then(() => (closed = true));
        assert.equal(await stream.closedWithin(5000), true, 'the server ended the stream');
        assert.deepEqual(stream.of('closed').map((e) => e.json), [{ reason: 'server shutting down; reconnect' }]);
        await Promise.race([closing, new Promise((r) => setTimeout(r, 5000))]);
        assert.equal(closed, true, 'shutdown finished');
        assert.ok(Date.now() - started < 5000);
      } finally {
        stream.close();
      }
    } finally {
      if (!closed) await app.close();
    }
  });
});
