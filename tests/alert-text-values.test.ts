import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { telemetryPublisher } from './helpers/mqtt.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * Alert rules on text values (equals / not_equals / changes) and on/off values (is_true / is_false),
 * evaluated as telemetry is committed over HTTP and over MQTT (QoS 1: the PUBACK comes after evaluation).
 */
describe('alert rules on text and on/off values', { timeout: 60_000 }, () => {
  let app: TestApp;
  let owner: SignedIn;
  let viewer: SignedIn;
  let stranger: SignedIn;
  const clients: MqttClient[] = [];
  const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();

  before(async () => {
    app = await startTestApp({ mqttPort: 0 });
    owner = await app.owner('Cold chain');
    viewer = await app.member(owner, 'viewer');
    stranger = await app.owner('Elsewhere');
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await app.close();
  });

  async function device(by: SignedIn) {
    const created = await by.client.post('/api/v1/devices', { kind: 'sensor', name: `Sensor ${randomBytes(3).toString('hex')}`, serial: `S-${randomBytes(4).toString('hex')}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  async function send(key: string, items: { ts: string; values: Record<string, unknown> }[]) {
    const response = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key }, payload: { items } });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json().rejected, []);
  }

  async function rule(by: SignedIn, fields: Record<string, unknown>) {
    const created = await by.client.post('/api/v1/alert-rules', { name: `Rule ${randomBytes(3).toString('hex')}`, scope: 'organization', condition: 'metric', durationSeconds: 60, severity: 'major', ...fields });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as { id: string; messageTemplate: string };
  }

  async function alertsOf(by: SignedIn, deviceId: string) {
    const response = await by.client.get(`/api/v1/devices/${deviceId}/alerts`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.items as Record<string, unknown>[];
  }

  const connect = (key: string) => telemetryPublisher(app.runtime.mqtt.port!, key, clients);

  it('a text "equals" rule fires once the value has held for the duration, renders {{value}} as the text, and clears when it changes back', async () => {
    const unit = await device(owner);
    await send(unit.key, [{ ts: minutes(-10), values: { mode: 'cooling', temperature: 3 } }]);
    const equals = await rule(owner, { scope: 'device', deviceId: unit.id, metric: 'mode', operator: 'equals', textValue: 'defrost' });
    assert.equal(equals.messageTemplate, '{{device}}: {{metric}} is {{value}}');

    await send(unit.key, [{ ts: minutes(-8), values: { mode: 'Defrost' } }]);
    assert.equal((await alertsOf(owner, unit.id)).length, 0, 'case-sensitive: "Defrost" is not "defrost"');
    await send(unit.key, [{ ts: minutes(-6), values: { mode: 'defrost' } }, { ts: minutes(-4), values: { mode: 'defrost' } }]);
    let [alert] = await alertsOf(owner, unit.id);
    assert.ok(alert, 'held for two minutes, over the one-minute duration');
    assert.equal(alert.status, 'open');
    assert.equal(alert.firstText, 'defrost');
    assert.equal(alert.latestText, 'defrost');
    assert.equal(alert.latestValue, null);
    assert.match(String(alert.message), /mode is defrost$/);

    await send(unit.key, [{ ts: minutes(-3), values: { mode: 'cooling' } }, { ts: minutes(-1), values: { mode: 'cooling' } }]);
    [alert] = await alertsOf(owner, unit.id);
    assert.equal(alert!.status, 'resolved');
    assert.equal(alert!.resolution, 'auto');
    assert.equal(alert!.latestText, 'cooling');
  });

  it('over MQTT, a "changes" rule fires once per change and never for the same value repeated; with auto-resolve each change is a one-off notice', async () => {
    const unit = await device(owner);
    const publish = await connect(unit.key);
    await publish({ currentFirmwareVersion: 'v1.2.2', mx_temp: 41.9, mx_on: false }, minutes(-10));
    const changes = await rule(owner, { scope: 'device', deviceId: unit.id, metric: 'currentFirmwareVersion', operator: 'changes', severity: 'info' });
    assert.equal(changes.messageTemplate, '{{device}}: {{metric}} changed from {{previous}} to {{value}}');

    await publish({ currentFirmwareVersion: 'v1.2.2' }, minutes(-9));
    await publish({ currentFirmwareVersion: 'v1.2.2' }, minutes(-8));
    assert.equal((await alertsOf(owner, unit.id)).length, 0, 'the same value again is no change');

    await publish({ currentFirmwareVersion: 'v1.3.0' }, minutes(-7));
    await publish({ currentFirmwareVersion: 'v1.3.0' }, minutes(-6));
    let alerts = await alertsOf(owner, unit.id);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.status, 'resolved', 'a one-off notice');
    assert.equal(alerts[0]!.previousText, 'v1.2.2');
    assert.equal(alerts[0]!.latestText, 'v1.3.0');
    assert.match(String(alerts[0]!.message), /changed from v1\.2\.2 to v1\.3\.0$/);

    // Two changes in one message's worth of readings, and one back: three more notices.
    await publish({ currentFirmwareVersion: 'v1.3.1' }, minutes(-5));
    await publish({ currentFirmwareVersion: 'v1.4.0' }, minutes(-4));
    await publish({ currentFirmwareVersion: 'v1.4.0' }, minutes(-3));
    await publish({ currentFirmwareVersion: 'v1.3.1' }, minutes(-2));
    alerts = await alertsOf(owner, unit.id);
    assert.deepEqual(alerts.map((a) => `${a.previousText}→${a.latestText}`).sort(), ['v1.2.2→v1.3.0', 'v1.3.0→v1.3.1', 'v1.3.1→v1.4.0', 'v1.4.0→v1.3.1'].sort());
  });

  it('without auto-resolve, the first change opens an alert that stays open and later changes count on it', async () => {
    const unit = await device(owner);
    await send(unit.key, [{ ts: minutes(-10), values: { operating_mode: 'eco' } }]);
    await rule(owner, { scope: 'device', deviceId: unit.id, metric: 'operating_mode', operator: 'changes', autoResolve: false });
    await send(unit.key, [{ ts: minutes(-9), values: { operating_mode: 'boost' } }, { ts: minutes(-8), values: { operating_mode: 'eco' } }]);
    await send(unit.key, [{ ts: minutes(-7), values: { operating_mode: 'eco' } }]);
    const alerts = await alertsOf(owner, unit.id);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.status, 'open');
    assert.equal(alerts[0]!.breachCount, 2, 'eco → boost, boost → eco');
    assert.equal(alerts[0]!.latestText, 'eco');
  });

  it('an on/off "is_true" rule fires on a boolean sent over MQTT and reads "true"', async () => {
    const unit = await device(owner);
    const publish = await connect(unit.key);
    await publish({ alarm: false }, minutes(-10));
    const flag = await rule(owner, { scope: 'device', deviceId: unit.id, metric: 'alarm', operator: 'is_true', severity: 'critical' });
    await publish({ alarm: false }, minutes(-9));
    await publish({ alarm: true }, minutes(-6));
    await publish({ alarm: true }, minutes(-4));
    const [alert] = await alertsOf(owner, unit.id);
    assert.ok(alert);
    assert.equal(alert.ruleId, flag.id);
    assert.equal(alert.latestValue, 1);
    assert.match(String(alert.message), /alarm is true$/);
    await publish({ alarm: false }, minutes(-3));
    await publish({ alarm: false }, minutes(-1));
    assert.equal((await alertsOf(owner, unit.id))[0]!.status, 'resolved');
  });

  it('refuses operators that do not suit the metric, and bad texts, by field', async () => {
    const unit = await device(owner);
    await send(unit.key, [{ ts: minutes(-1), values: { state_text: 'idle', level: 4 } }]);
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ metric: 'level', operator: 'equals', textValue: 'x' }, 'operator', /tests text, and your devices send "level" as numbers/],
      [{ metric: 'state_text', operator: 'gt', threshold: 1 }, 'operator', /tests numbers, and your devices send "state_text" as text: use equals, not_equals, changes/],
      [{ metric: 'state_text', operator: 'is_true' }, 'operator', /as text/],
      [{ metric: 'state_text', operator: 'equals' }, 'textValue', /is required/],
      [{ metric: 'state_text', operator: 'equals', textValue: 'x'.repeat(257) }, 'textValue', /256/],
      [{ metric: 'state_text', operator: 'changes', textValue: 'idle' }, 'textValue', /takes no textValue/],
      [{ metric: 'state_text', operator: 'not_equals', textValue: 'idle', threshold: 3 }, 'threshold', /takes no threshold/],
      [{ metric: 'level', operator: 'is_false', clearThreshold: 1 }, 'clearThreshold', /on\/off/],
      [{ metric: 'level', operator: 'gt', threshold: 3, textValue: 'x' }, 'textValue', /only equals and not_equals/],
      [{ metric: 'state_text', operator: 'contains', textValue: 'idle' }, 'operator', /./],
      [{ condition: 'event', metric: 'speed', operator: 'equals', textValue: 'x' }, 'operator', /event rules test numbers/],
      [{ metric: 'never_sent', operator: 'changes' }, 'metric', /not a metric any of your devices has sent/],
    ];
    for (const [fields, field, message] of cases) {
      const refused = await owner.client.post('/api/v1/alert-rules', { name: 'Bad', scope: 'organization', condition: 'metric', durationSeconds: 60, severity: 'minor', ...fields });
      assert.equal(refused.status, 400, `${JSON.stringify(fields)} → ${JSON.stringify(refused.body)}`);
      const detail = (refused.body.error.details as { field: string; message: string }[]).find((d) => d.field === field);
      assert.ok(detail, `${JSON.stringify(fields)}: expected a complaint about ${field}, got ${JSON.stringify(refused.body.error.details)}`);
      assert.match(detail.message, message);
    }
  });

  it('a viewer cannot write text rules, and another organization\'s devices never trigger them', async () => {
    const mine = await device(owner);
    const theirs = await device(stranger);
    await send(mine.key, [{ ts: minutes(-10), values: { door_state: 'closed' } }]);
    await send(theirs.key, [{ ts: minutes(-10), values: { door_state: 'closed' } }]);
    const fields = { name: 'Door ajar', scope: 'organization', condition: 'metric', metric: 'door_state', operator: 'equals', textValue: 'ajar', durationSeconds: 60, severity: 'major' };
    assert.equal((await viewer.client.post('/api/v1/alert-rules', fields)).status, 403);
    await rule(owner, fields);

    await send(theirs.key, [{ ts: minutes(-6), values: { door_state: 'ajar' } }, { ts: minutes(-3), values: { door_state: 'ajar' } }]);
    assert.equal((await alertsOf(stranger, theirs.id)).length, 0);
    await send(mine.key, [{ ts: minutes(-6), values: { door_state: 'ajar' } }, { ts: minutes(-3), values: { door_state: 'ajar' } }]);
    assert.equal((await alertsOf(owner, mine.id)).length, 1);
    const all = await owner.client.get('/api/v1/alerts');
    assert.ok((all.body.items as { deviceId: string }[]).every((a) => a.deviceId !== theirs.id));
  });

  it('previews text and "changes" rules over the last week', async () => {
    const unit = await device(owner);
    await send(unit.key, [
      { ts: minutes(-60 * 24 * 8), values: { profile: 'night' } },
      { ts: minutes(-60), values: { profile: 'night' } },
      { ts: minutes(-50), values: { profile: 'day' } },
      { ts: minutes(-40), values: { profile: 'day' } },
      { ts: minutes(-30), values: { profile: 'night' } },
    ]);
    const draft = { scope: 'device', deviceId: unit.id, condition: 'metric', metric: 'profile', durationSeconds: 300, severity: 'info' };
    const changes = await owner.client.post('/api/v1/alert-rules/preview', { ...draft, operator: 'changes' });
    assert.equal(changes.status, 200, JSON.stringify(changes.body));
    assert.equal(changes.body.evaluated, true);
    const seen = changes.body.devices[0].alerts as { previousText: string; textValue: string; peakValue: null }[];
    assert.deepEqual(seen.map((a) => `${a.previousText}→${a.textValue}`), ['night→day', 'day→night'], 'the value from before the week is the baseline, not a change');
    const equals = await owner.client.post('/api/v1/alert-rules/preview', { ...draft, operator: 'equals', textValue: 'day' });
    assert.equal(equals.status, 200, JSON.stringify(equals.body));
    const [opened] = equals.body.devices[0].alerts as { textValue: string; peakValue: null; resolvedAt: string }[];
    assert.equal(equals.body.devices[0].alerts.length, 1);
    assert.equal(opened!.textValue, 'day');
    assert.equal(opened!.peakValue, null);
    assert.ok(opened!.resolvedAt);
  });
});
