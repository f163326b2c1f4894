import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { STATUS_HISTORY_PER_CAMERA } from '../src/server/cameras/settings.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { eventually } from './helpers/process.js';
import { makeClip, RtspResponder, tempDir } from './helpers/rtsp.js';

// Real ffmpeg and RTSP over loopback, as in camera-decoder.test.ts: the statuses come from a decoder.
const CREDENTIALS = { username: 'gate-admin', password: 'Gate-7 s3cret' };
const SIZE = 320;

interface StatusChange { status: string; cause: string | null; at: string }

describe('camera status history', () => {
  let app: TestApp;
  let owner: SignedIn;
  let dir: string;
  let responder: RtspResponder;
  let site: string;
  let serial = 0;

  async function camera(credentials = CREDENTIALS): Promise<string> {
    const device = await owner.client.post('/api/v1/devices', { kind: 'camera', name: `Gate camera ${++serial}`, serial: `HIST-${serial}`, siteId: site });
    assert.equal(device.status, 201, JSON.stringify(device.body));
    const id = device.body.device.id as string;
    assert.equal((await owner.client.patch(`/api/v1/cameras/${id}`, { rtspUrl: responder.url(), inferenceSize: SIZE, targetFps: 2 })).status, 200);
    assert.equal((await owner.client.request('PUT', `/api/v1/cameras/${id}/credentials`, credentials)).status, 200);
    return id;
  }
  const decoders = () => app.runtime.services.decoders;
  const statusOf = async (id: string) => (await owner.client.get(`/api/v1/cameras/${id}`)).body as { status: string; statusCause: string | null };
  async function statusBecomes(id: string, status: string) {
    assert.ok(await eventually(async () => (await statusOf(id)).status === status, 20_000), `camera became ${status}`);
  }
  async function history(who: SignedIn, id: string, query = ''): Promise<{ status: number; body: { items: StatusChange[]; nextCursor: string | null } }> {
    return who.client.get(`/api/v1/cameras/${id}/status-history${query}`);
  }
  async function everyChange(id: string, limit: number): Promise<{ items: StatusChange[]; pages: number }> {
    const items: StatusChange[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await history(owner, id, `?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor);
    return { items, pages };
  }

  before(async () => {
    dir = tempDir();
    app = await startTestApp();
    owner = await app.owner('Harbour Works');
    site = (await owner.client.post('/api/v1/sites', { name: 'North gate' })).body.id as string;
    responder = await RtspResponder.start({ clip: makeClip(dir), credentials: CREDENTIALS });
  });
  after(async () => {
    await app.close();
    await responder.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every change of a camera that went online, offline, and failed with a wrong password, newest first; an unchanged status adds nothing', async () => {
    const id = await camera();
    assert.deepEqual((await history(owner, id)).body, { items: [], nextCursor: null }, 'a new camera has no changes yet');
    await decoders().start(id);
    await statusBecomes(id, 'online');
    await decoders().stop(id);
    await statusBecomes(id, 'offline');
    assert.equal((await owner.client.request('PUT', `/api/v1/cameras/${id}/credentials`, { ...CREDENTIALS, password: 'Wrong-Horse-4711' })).status, 200);
    await decoders().start(id);
    await statusBecomes(id, 'error');
    // The decoder retries with backoff and fails the same way: no new change.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await decoders().stop(id);
    await statusBecomes(id, 'offline');

    const { items } = await everyChange(id, 50);
    assert.deepEqual(items.map((c) => c.status), ['offline', 'error', 'connecting', 'offline', 'online', 'connecting']);
    assert.match(items[1]!.cause!, /^401 unauthorized/);
    assert.equal(items[4]!.cause, null);
    const times = items.map((c) => Date.parse(c.at));
    assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
    assert.equal(items[0]!.at, (await owner.client.get(`/api/v1/cameras/${id}`)).body.statusChangedAt, 'the newest change is the camera\'s status');

    // A worker taking the camera over reports the status it already has: nothing is written.
    await app.runtime.services.cameras.recordStatus(id, 'offline', null);
    assert.equal((await everyChange(id, 50)).items.length, 6);
  });

  it('pages newest first with nextCursor; a malformed cursor is a 400', async () => {
    const id = await camera();
    for (let round = 0; round < 2; round += 1) {
      await decoders().start(id);
      await statusBecomes(id, 'online');
      await decoders().stop(id);
      await statusBecomes(id, 'offline');
    }
    const whole = await everyChange(id, 50);
    assert.equal(whole.items.length, 6);
    const paged = await everyChange(id, 4);
    assert.equal(paged.pages, 2);
    assert.deepEqual(paged.items, whole.items, 'pages join up without gaps or repeats');
    const first = await history(owner, id, '?limit=4');
    assert.equal(first.body.items.length, 4);
    assert.ok(first.body.nextCursor);

    for (const cursor of ['not-a-cursor', Buffer.from(JSON.stringify(['yesterday', 1])).toString('base64url'), Buffer.from('[1]').toString('base64url')]) {
      const bad = await history(owner, id, `?cursor=${cursor}`);
      assert.equal(bad.status, 400, `${cursor}: ${JSON.stringify(bad.body)}`);
    }
    assert.equal((await history(owner, id, '?limit=0')).status, 400);
  });

  it(`keeps the newest ${STATUS_HISTORY_PER_CAMERA} changes of a camera that flaps`, async () => {
    const id = await camera();
    const total = STATUS_HISTORY_PER_CAMERA + 20;
    for (let n = 0; n < total; n += 1) {
      await app.runtime.services.cameras.recordStatus(id, n % 2 === 0 ? 'online' : 'error', n % 2 === 0 ? null : `no frames for 10 s (drop ${n})`);
    }
    const { items } = await everyChange(id, 200);
    assert.equal(items.length, STATUS_HISTORY_PER_CAMERA);
    assert.equal(items[0]!.cause, `no frames for 10 s (drop ${total - 1})`, 'the newest change is kept');
    assert.equal(items.at(-1)!.status, 'online');
    assert.equal(items.at(-2)!.cause, `no frames for 10 s (drop ${total - STATUS_HISTORY_PER_CAMERA + 1})`, 'the oldest go');
  });

  it('another organization\'s camera and a camera on a site the member may not see answer 404; a viewer of its site reads it', async () => {
    const id = await camera();
    await app.runtime.services.cameras.recordStatus(id, 'connecting', null);
    const elsewhere = await app.owner('Rival Yard');
    assert.equal((await history(elsewhere, id)).status, 404);
    const otherSite = (await owner.client.post('/api/v1/sites', { name: 'South gate' })).body.id as string;
    const restricted = await app.member(owner, 'manager', [otherSite]);
    assert.equal((await history(restricted, id)).status, 404);
    const viewer = await app.member(owner, 'viewer', [site]);
    const seen = await history(viewer, id);
    assert.equal(seen.status, 200, JSON.stringify(seen.body));
    assert.deepEqual(seen.body.items.map((c) => c.status), ['connecting']);
    assert.equal((await history(owner, '00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await history(owner, 'not-a-uuid')).status, 400);
  });
});
