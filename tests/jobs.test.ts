import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { BusMessage } from '../src/server/core/bus.js';
import { JobRunner } from '../src/server/core/jobs.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

describe('background jobs', () => {
  let app: TestApp;
  let owner: SignedIn;
  const published: BusMessage[] = [];
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
    app.runtime.ctx.bus.subscribe((m) => published.push(m));
  });
  after(async () => app.close());

  it('announces once when a device falls silent past its threshold, and again after it comes back and goes', async () => {
    const created = await owner.client.post('/api/v1/devices', { kind: 'camera', name: 'Gate cam', serial: 'CAM-9' });
    const deviceId = created.body.device.id;
    const contact = () => app.runtime.app.inject({
      method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': created.body.apiKey },
      payload: { events: [{ ts: new Date().toISOString(), kind: 'motion', client_ref: String(Math.random()) }] },
    });
    await contact();
    assert.equal((await owner.client.get(`/api/v1/devices/${deviceId}`)).body.status, 'online');
    const silence = async () => {
      // Ten minutes pass: every recorded time moves back.
      await app.runtime.ctx.pool.query(
        `UPDATE devices SET last_seen_at = last_seen_at - interval '10 minutes', offline_announced_at = offline_announced_at - interval '10 minutes' WHERE id = $1`,
        [deviceId],
      );
      await app.runtime.ctx.pool.query(`UPDATE device_keys SET last_used_at = now() - interval '10 minutes' WHERE device_id = $1`, [deviceId]);
    };
    await silence();
    const offline = () => published.filter((m) => m.type === 'device.status' && m.data.deviceId === deviceId && m.data.status === 'offline');

    assert.equal(await app.runtime.jobs.tick('device-offline'), true);
    assert.equal(offline().length, 1);
    assert.equal(offline()[0]!.orgId, owner.orgId);
    assert.equal((await owner.client.get(`/api/v1/devices/${deviceId}`)).body.status, 'offline');
    await app.runtime.jobs.tick('device-offline');
    assert.equal(offline().length, 1, 'announced once');

    await contact();
    assert.ok(published.some((m) => m.type === 'device.status' && m.data.deviceId === deviceId && m.data.status === 'online'));
    await silence();
    await app.runtime.jobs.tick('device-offline');
    assert.equal(offline().length, 2);
  });

  it('runs each tick in one process only: the advisory lock is the lease', async () => {
    const logger = pino({ level: 'silent' });
    let running = 0;
    let overlapped = false;
    const slow = async () => {
      running += 1;
      if (running > 1) overlapped = true;
      await new Promise((r) => setTimeout(r, 200));
      running -= 1;
    };
    const a = new JobRunner(app.runtime.ctx.pool, logger);
    const b = new JobRunner(app.runtime.ctx.pool, logger);
    a.register('lease-test', 60_000, slow);
    b.register('lease-test', 60_000, slow);
    const results = await Promise.all([a.tick('lease-test'), b.tick('lease-test')]);
    assert.deepEqual(results.sort(), [false, true]);
    assert.equal(overlapped, false);
    assert.equal(await b.tick('lease-test'), true, 'the lease is released after the tick');
  });
});
