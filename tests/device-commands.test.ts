import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * Commands (RPC) through the API and ThingsBoard's HTTP device API: a device polls for its next
 * command, answers it, asks for the time; members send, wait and read the record.
 */
describe('device commands over the API and the HTTP device API', { timeout: 60_000 }, () => {
  let app: TestApp;
  let owner: SignedIn;

  before(async () => {
    app = await startTestApp({ metricsPublic: true });
    owner = await app.owner();
  });
  after(async () => app.close());

  async function device(by = owner) {
    const created = await by.client.post('/api/v1/devices', { kind: 'sensor', name: 'Gate', serial: `RPC-${randomBytes(4).toString('hex')}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  /** The device's long poll, as ThingsBoard firmware does it. */
  const poll = (key: string, timeoutMs: number) => app.client().get(`/api/v1/${key}/rpc?timeout=${timeoutMs}`);

  it('a two-way command reaches a polling device and the API call returns its answer', async () => {
    const gate = await device();
    const polled = poll(gate.key, 10_000);
    const sent = owner.client.post(`/api/v1/devices/${gate.id}/commands`, { method: 'setLimit', params: { limit: 30 }, twoWay: true, timeoutSeconds: 10 });
    const command = await polled;
    assert.equal(command.status, 200, JSON.stringify(command.body));
    assert.equal(command.body.method, 'setLimit');
    assert.deepEqual(command.body.params, { limit: 30 });
    assert.ok(Number.isInteger(command.body.id));

    const answered = await app.client().post(`/api/v1/${gate.key}/rpc/${command.body.id}`, { limit: 30, applied: true });
    assert.deepEqual([answered.status, answered.body], [200, ''], 'answered with an empty 200, as ThingsBoard does');
    const result = await sent;
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.equal(result.body.status, 'succeeded');
    assert.deepEqual(result.body.response, { limit: 30, applied: true });
    assert.equal(result.body.requestId, command.body.id);
    assert.ok(result.body.sentAt && result.body.answeredAt);

    const again = await app.client().post(`/api/v1/${gate.key}/rpc/${command.body.id}`, { late: true });
    assert.equal(again.status, 404, 'an answered command takes no second answer');
  });

  it('a two-way command without an answer ends in 504 with the record: timed out when sent, expired when never sent', async () => {
    const gate = await device();
    const polled = poll(gate.key, 10_000);
    const silent = await owner.client.post(`/api/v1/devices/${gate.id}/commands`, { method: 'reboot', timeoutSeconds: 1 });
    assert.equal((await polled).status, 200);
    assert.equal(silent.status, 504, JSON.stringify(silent.body));
    assert.equal(silent.body.status, 'timed_out');

    const offline = await device();
    const unsent = await owner.client.post(`/api/v1/devices/${offline.id}/commands`, { method: 'reboot', timeoutSeconds: 1 });
    assert.equal(unsent.status, 504);
    assert.equal(unsent.body.status, 'expired');
    assert.equal((await poll(offline.key, 200)).status, 408, 'an expired command is never handed out');
  });

  it('a one-way command waits for an offline device and is handed to its next poll', async () => {
    const gate = await device();
    const queued = await owner.client.post(`/api/v1/devices/${gate.id}/commands`, { method: 'blink', params: { times: 3 }, twoWay: false, timeoutSeconds: 3600 });
    assert.equal(queued.status, 202, JSON.stringify(queued.body));
    assert.equal(queued.body.status, 'queued');

    const command = await poll(gate.key, 5000);
    assert.equal(command.status, 200);
    assert.deepEqual(command.body, { id: queued.body.requestId, method: 'blink', params: { times: 3 } });
    const record = await owner.client.get(`/api/v1/devices/${gate.id}/commands/${queued.body.id}`);
    assert.equal(record.body.status, 'delivered');
    assert.equal((await poll(gate.key, 200)).status, 408, 'handed out once');
  });

  it('the deadline job expires a one-way command the device never came for', async () => {
    const gate = await device();
    const queued = await owner.client.post(`/api/v1/devices/${gate.id}/commands`, { method: 'blink', twoWay: false, timeoutSeconds: 1 });
    assert.equal(queued.body.status, 'queued');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.ok((await app.runtime.services.commands.closeOverdue()) >= 1);
    assert.equal((await owner.client.get(`/api/v1/devices/${gate.id}/commands/${queued.body.id}`)).body.status, 'expired');
    assert.equal((await poll(gate.key, 200)).status, 408, 'an expired command is never handed out');
  });

  it("a device cannot answer another device's command", async () => {
    const [gate, intruder] = [await device(), await device()];
    const polled = poll(gate.key, 10_000);
    const sent = owner.client.post(`/api/v1/devices/${gate.id}/commands`, { method: 'open', timeoutSeconds: 2 });
    const command = await polled;
    const forged = await app.client().post(`/api/v1/${intruder.key}/rpc/${command.body.id}`, { opened: true });
    assert.equal(forged.status, 404);
    const result = await sent;
    assert.equal(result.status, 504, 'the forged answer was not taken');
    assert.equal(result.body.response, null);
  });

  it('refuses what PostgreSQL cannot store, in params and in answers, with the reason (never a 500)', async () => {
    const gate = await device();
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    for (const params of [{ pin: 'a\u0000b' }, { label: '\ud800' }, deep]) {
      const refused = await owner.client.post(`/api/v1/devices/${gate.id}/commands`, { method: 'set', params, twoWay: false });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.match(refused.body.error.details[0].field, /^params/);
    }
    const polled = poll(gate.key, 10_000);
    const sent = owner.client.post(`/api/v1/devices/${gate.id}/commands`, { method: 'read', timeoutSeconds: 10 });
    const command = await polled;
    const answered = await app.client().post(`/api/v1/${gate.key}/rpc/${command.body.id}`, { value: '\udc00' });
    assert.equal(answered.status, 400);
    assert.match(answered.body.error.message, /surrogate/);
    const result = await sent;
    assert.equal(result.status, 200);
    assert.equal(result.body.status, 'failed');
    assert.match(result.body.error, /surrogate/);
    assert.equal((await app.client().post(`/api/v1/${gate.key}/rpc/999999999`, deep)).status, 404, 'an unknown id with a bad answer is still a 404');
  });

  it('answers getCurrentTime with the server clock (client-side RPC) and refuses other methods', async () => {
    const gate = await device();
    const before = Date.now();
    const time = await app.client().post(`/api/v1/${gate.key}/rpc`, { method: 'getCurrentTime', params: {} });
    assert.equal(time.status, 200);
    assert.ok(time.body >= before && time.body <= Date.now(), `epoch ms, got ${time.body}`);
    const unknown = await app.client().post(`/api/v1/${gate.key}/rpc`, { method: 'getWeather', params: {} });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error.message, /getCurrentTime/);
    assert.equal((await app.client().post('/api/v1/not-a-key/rpc', { method: 'getCurrentTime' })).status, 401);
  });

  /** Waits until the process holds `count` polls open, as /metrics reports them. */
  async function openPolls(count: number) {
    const line = `vigil_device_command_polls_open ${count}`;
    for (let seen = ''; !seen.includes(line); await new Promise((resolve) => setTimeout(resolve, 20))) {
      seen = (await app.runtime.app.inject({ method: 'GET', url: '/metrics' })).body;
    }
  }

  it('bounds long polls per device and their timeout', async () => {
    const gate = await device();
    const held = [poll(gate.key, 3000), poll(gate.key, 3000)];
    await openPolls(2);
    const third = await poll(gate.key, 1);
    assert.equal(third.status, 429, 'a third poll of one device, once the first two are waiting, is refused');
    assert.ok(third.headers['retry-after']);
    assert.deepEqual((await Promise.all(held)).map((r) => [r.status, r.body]), [[408, ''], [408, '']], 'a poll without a command ends in 408 without a body');
    assert.equal((await poll(gate.key, 600_000)).status, 400, 'a timeout past the maximum is refused with a reason');
  });

  it('checks what is sent, who sends it, and audits it without the params', async () => {
    const gate = await device();
    const bad = await owner.client.post(`/api/v1/devices/${gate.id}/commands`, { method: 'two words', twoWay: true, timeoutSeconds: 600 });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.details.map((d: { field: string }) => d.field).sort(), ['method', 'timeoutSeconds']);
    const big = await owner.client.post(`/api/v1/devices/${gate.id}/commands`, { method: 'load', params: { blob: 'x'.repeat(17_000) }, twoWay: false });
    assert.equal(big.status, 400);

    const viewer = await app.member(owner, 'viewer');
    assert.equal((await viewer.client.post(`/api/v1/devices/${gate.id}/commands`, { method: 'reboot', twoWay: false })).status, 403);
    assert.equal((await viewer.client.get(`/api/v1/devices/${gate.id}/commands`)).status, 200, 'a viewer reads the history');
    const stranger = await app.owner('Other Org');
    assert.equal((await stranger.client.post(`/api/v1/devices/${gate.id}/commands`, { method: 'reboot', twoWay: false })).status, 404);
    assert.equal((await stranger.client.get(`/api/v1/devices/${gate.id}/commands`)).status, 404);

    assert.equal((await owner.client.post(`/api/v1/devices/${gate.id}/commands`, { method: 'reboot', twoWay: false })).status, 202);
    const sent = await owner.client.post(`/api/v1/devices/${gate.id}/commands`, { method: 'setPin', params: { pin: '7351' }, twoWay: false });
    assert.equal(sent.status, 202);
    assert.equal((await stranger.client.get(`/api/v1/devices/${gate.id}/commands/${sent.body.id}`)).status, 404);
    const audit = await owner.client.get('/api/v1/audit?action=device.command_sent');
    const entry = audit.body.items.find((e: { details: { commandId?: string } }) => e.details.commandId === sent.body.id);
    assert.ok(entry, 'the command is audited');
    assert.equal(entry.details.method, 'setPin');
    assert.ok(!JSON.stringify(entry).includes('7351'), 'params are not in the audit log');

    const page = await owner.client.get(`/api/v1/devices/${gate.id}/commands?limit=1`);
    assert.equal(page.body.items.length, 1);
    assert.equal(page.body.items[0].id, sent.body.id, 'newest first');
    assert.ok(page.body.nextCursor);
    const next = await owner.client.get(`/api/v1/devices/${gate.id}/commands?limit=1&cursor=${page.body.nextCursor}`);
    assert.deepEqual(next.body.items.map((c: { method: string }) => c.method), ['reboot'], 'the refused commands were not recorded');
    assert.equal(next.body.nextCursor, null);

    const docs = JSON.parse((await app.runtime.app.inject({ method: 'GET', url: '/docs/json' })).body).paths;
    for (const path of ['/api/v1/devices/{id}/commands', '/api/v1/devices/{id}/commands/{commandId}', '/api/v1/{accessToken}/rpc', '/api/v1/{accessToken}/rpc/{requestId}']) {
      assert.ok(docs[path], `${path} is in the OpenAPI document`);
    }
  });
});
