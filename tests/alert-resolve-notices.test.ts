import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { eventually, webhookReceiver } from './helpers/receivers.js';
import { SseStream } from './helpers/sse.js';

/** When an alert resolves, the channels that were told it opened, and whoever acknowledged it, are told. */
describe('notices when an alert resolves', () => {
  let app: TestApp;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let baseUrl: string;
  let owner: SignedIn;
  let operator: SignedIn;
  let colleague: SignedIn;
  const streams: SseStream[] = [];
  let serial = 0;

  const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();
  const readings = (value: number, from: number, to: number) => {
    const items = [];
    for (let m = from; m <= to; m++) items.push({ ts: minutes(m), values: { temperature: value } });
    return items;
  };

  async function send(key: string, items: unknown[]) {
    const response = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key }, payload: { items } });
    assert.equal(response.statusCode, 200, response.body);
    await app.runtime.services.alerting.notifier.idle();
  }

  async function stream(user: SignedIn) {
    const opened = await SseStream.open(baseUrl, { cookie: user.client.cookie });
    streams.push(opened);
    return opened;
  }

  /** A cold room with a rule notifying `channelIds`, and its alert, open. */
  async function openAlert(channelIds: string[]) {
    serial += 1;
    const created = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: `Room ${serial}`, serial: `RN-${serial}` });
    const deviceId = created.body.device.id as string;
    const rule = await owner.client.post('/api/v1/alert-rules', {
      name: `Warm ${serial}`, scope: 'device', deviceId, condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 8, clearThreshold: 7,
      durationSeconds: 60, severity: 'major', channelIds,
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    await send(created.body.apiKey, readings(11, -12, -8));
    const [alert] = (await owner.client.get(`/api/v1/alerts?deviceId=${deviceId}`)).body.items;
    return { key: created.body.apiKey as string, ruleId: rule.body.id as string, alertId: alert.id as string };
  }

  /** A message published after everything before it, to know a stream has received all that came first. */
  async function barrier(...on: SseStream[]) {
    serial += 1;
    const name = `Barrier ${serial}`;
    await owner.client.post('/api/v1/devices', { kind: 'sensor', name, serial: `BR-${serial}` });
    for (const s of on) await s.next((e) => e.event === 'device.created' && JSON.stringify(e.json).includes(name), 5000, 'the barrier');
  }

  const hooks = (alertId: string, event: string) => receiver.received.filter((r) => r.headers['x-vigil-event'] === event && JSON.parse(r.body).alert.id === alertId);

  before(async () => {
    receiver = await webhookReceiver();
    // The webhook receivers listen on loopback, which the operator allows here.
    app = await startTestApp({ webhookAllowPrivate: ['127.0.0.1'] });
    await app.runtime.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.runtime.app.server.address() as AddressInfo).port}`;
    owner = await app.owner('Resolve Co');
    operator = await app.member(owner, 'operator');
    colleague = await app.member(owner, 'operator');
  });
  after(async () => {
    for (const s of streams) s.close();
    await app.close();
    await receiver.close();
  });

  it('the acknowledger hears in the console that their alert resolved by itself; nobody else gets that personal notice', async () => {
    const { key, alertId } = await openAlert([]);
    const mine = await stream(operator);
    const theirs = await stream(colleague);
    assert.equal((await operator.client.post(`/api/v1/alerts/${alertId}/acknowledge`, { comment: 'watching it' })).status, 200);
    await send(key, readings(5, -6, 0));
    const notice = await mine.next((e) => e.event === 'alert.notification', 5000, 'the personal notice');
    assert.equal(notice.json!.event, 'alert.resolved');
    assert.equal(notice.json!.reason, 'acknowledged_by_you');
    assert.equal((notice.json!.alert as { id: string; resolution: string }).id, alertId);
    assert.equal((notice.json!.alert as { resolution: string }).resolution, 'auto');
    // Everyone sees the alert resolve; the colleague's stream carries it, and nothing personal.
    await theirs.next((e) => e.event === 'alert.resolved', 5000, 'alert.resolved for the colleague');
    await mine.next((e) => e.event === 'alert.resolved', 5000, 'alert.resolved for the acknowledger');
    await barrier(theirs);
    assert.deepEqual(theirs.of('alert.notification'), []);
  });

  it('resolved by someone else: the acknowledger is told; resolving one\'s own acknowledged alert sends no notice to oneself', async () => {
    const first = await openAlert([]);
    const mine = await stream(operator);
    await operator.client.post(`/api/v1/alerts/${first.alertId}/acknowledge`, {});
    assert.equal((await owner.client.post(`/api/v1/alerts/${first.alertId}/resolve`)).status, 200);
    const notice = await mine.next((e) => e.event === 'alert.notification' && (e.json!.alert as { id: string }).id === first.alertId, 5000, 'the notice');
    assert.equal((notice.json!.alert as { resolvedBy: string }).resolvedBy, owner.userId);

    const second = await openAlert([]);
    await operator.client.post(`/api/v1/alerts/${second.alertId}/acknowledge`, {});
    assert.equal((await operator.client.post(`/api/v1/alerts/${second.alertId}/resolve`)).status, 200);
    await mine.next((e) => e.event === 'alert.resolved' && (e.json!.alert as { id: string }).id === second.alertId, 5000, 'the resolution');
    await barrier(mine);
    assert.equal(mine.of('alert.notification').filter((e) => (e.json!.alert as { id: string }).id === second.alertId).length, 0);
  });

  it('the channels that were told it opened hear it resolved, even after the rule stopped notifying them', async () => {
    const hook = await owner.client.post('/api/v1/notification-channels', { name: 'Resolve hook', kind: 'webhook', url: receiver.url });
    const later = await owner.client.post('/api/v1/notification-channels', { name: 'Added later', kind: 'webhook', url: `${receiver.url}?later` });
    const { key, ruleId, alertId } = await openAlert([hook.body.channel.id]);
    await eventually(() => hooks(alertId, 'alert.opened').length === 1, 'the opening webhook');

    const changed = await owner.client.patch(`/api/v1/alert-rules/${ruleId}`, { channelIds: [later.body.channel.id] });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    await send(key, readings(5, -6, 0));
    assert.equal((await owner.client.get(`/api/v1/alerts/${alertId}`)).body.status, 'resolved');
    await eventually(() => hooks(alertId, 'alert.resolved').length === 1, 'the resolved webhook');
    const log = (await owner.client.get(`/api/v1/notification-channels/${later.body.channel.id}/deliveries`)).body.items;
    assert.deepEqual(log, [], 'a channel that never heard of the alert is not told it resolved');
  });
});
