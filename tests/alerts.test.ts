import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startRuntime } from '../src/server/runtime.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * Alert rules, evaluation and lifecycle against the real API, following Polo Sanca's acceptance
 * checklist (items 32–37): company X = organization with branches B1 and B2 (sites), equipment E1 in
 * B1 and E2 in B2; Y is another company.
 */
describe('alerts', () => {
  let app: TestApp;
  let ca: SignedIn;
  let viewer: SignedIn;
  let restricted: SignedIn;
  let operator: SignedIn;
  let cay: SignedIn;
  let b1: string;
  let b2: string;
  let serial = 0;

  const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();

  async function fridge(siteId: string | null, kind = 'refrigeration') {
    serial += 1;
    const created = await ca.client.post('/api/v1/devices', { kind, name: `Unit ${serial}`, serial: `PS-${serial}`, siteId });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  async function send(key: string, items: { ts: string; values: Record<string, number> }[]) {
    const response = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key }, payload: { items } });
    assert.equal(response.statusCode, 200, response.body);
    return response.json();
  }

  /** One reading a minute of `metric` from `fromMinute` to `toMinute` (relative to now). */
  function series(metric: string, value: number, fromMinute: number, toMinute: number) {
    const items = [];
    for (let m = fromMinute; m <= toMinute; m++) items.push({ ts: minutes(m), values: { [metric]: value } });
    return items;
  }

  async function createRule(client: SignedIn['client'], overrides: Record<string, unknown>) {
    return client.post('/api/v1/alert-rules', {
      name: `Rule ${Math.random().toString(36).slice(2, 8)}`, scope: 'organization', condition: 'metric', metric: 'temperature',
      operator: 'gt', threshold: 8, durationSeconds: 300, severity: 'critical', ...overrides,
    });
  }

  async function alertsOf(client: SignedIn['client'], deviceId: string, status = '') {
    const response = await client.get(`/api/v1/devices/${deviceId}/alerts${status ? `?status=${status}` : ''}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.items as Record<string, unknown>[];
  }

  before(async () => {
    app = await startTestApp();
    ca = await app.owner('Company X');
    b1 = (await ca.client.post('/api/v1/sites', { name: 'B1' })).body.id;
    b2 = (await ca.client.post('/api/v1/sites', { name: 'B2' })).body.id;
    viewer = await app.member(ca, 'viewer');
    restricted = await app.member(ca, 'viewer', [b1]);
    operator = await app.member(ca, 'operator');
    cay = await app.owner('Company Y');
  });
  after(async () => app.close());

  describe('rules: who may write them, and bad input (checklist 32, issue item 10)', () => {
    it('refuses each impossible rule with a 400 naming the field', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ metric: 'flux_capacitance' }, 'metric'],
        [{ operator: 'gt', threshold: 8, clearThreshold: 10 }, 'clearThreshold'],
        [{ operator: 'lt', threshold: 2, clearThreshold: 0 }, 'clearThreshold'],
        [{ operator: 'outside', threshold: 2, thresholdHigh: 8, clearThreshold: 1, clearThresholdHigh: 7 }, 'clearThreshold'],
        [{ durationSeconds: 0 }, 'durationSeconds'],
        [{ durationSeconds: 10_000_000 }, 'durationSeconds'],
        [{ messageTemplate: 'Too warm: {{value}} on {{fridge}}' }, 'messageTemplate'],
        [{ scope: 'global', siteId: b1 }, 'scope'],
        [{ scope: 'site' }, 'siteId'],
        [{ scope: 'device' }, 'deviceId'],
        [{ condition: 'offline', operator: 'gt' }, 'operator'],
        [{ activeHours: { days: [1], from: '25:00', to: '08:00' } }, 'activeHours.from'],
      ];
      for (const [overrides, field] of cases) {
        const client = overrides.scope === 'global' ? app.superadmin.client : ca.client;
        const response = await createRule(client, overrides);
        assert.equal(response.status, 400, `${JSON.stringify(overrides)} → ${JSON.stringify(response.body)}`);
        const fields = (response.body.error.details as { field: string }[]).map((d) => d.field);
        assert.ok(fields.includes(field), `${JSON.stringify(overrides)}: ${fields.join(', ')} should include ${field}`);
      }
      const template = await createRule(ca.client, { messageTemplate: 'Too warm: {{value}} on {{fridge}}' });
      assert.match(template.body.error.message, /\{\{fridge\}\}/);
      for (const operatorName of ['>>', 'between']) {
        assert.equal((await createRule(ca.client, { operator: operatorName })).status, 400, 'an unknown operator');
      }
      assert.equal((await createRule(ca.client, { condition: 'temperature_high' })).status, 400, 'an unknown condition');
    });

    it('a metric the organization has sent is known; global rules are for platform administrators; viewers write nothing', async () => {
      const unit = await fridge(b1);
      await send(unit.key, [{ ts: minutes(-1), values: { brine_level: 3 } }]);
      const custom = await createRule(ca.client, { metric: 'brine_level', operator: 'lt', threshold: 1 });
      assert.equal(custom.status, 201, JSON.stringify(custom.body));
      assert.equal((await createRule(ca.client, { scope: 'global' })).status, 403);
      assert.equal((await createRule(viewer.client, {})).status, 403);
      assert.equal((await createRule(operator.client, {})).status, 403);
      assert.equal((await createRule(restricted.client, { scope: 'site', siteId: b1 })).status, 403);
      const global = await createRule(app.superadmin.client, { scope: 'global', deviceKind: 'sensor', metric: 'humidity', threshold: 95 });
      assert.equal(global.status, 201);
      assert.equal((await ca.client.patch(`/api/v1/alert-rules/${global.body.id}`, { threshold: 99 })).status, 403, 'an organization admin cannot change a global rule');
      assert.equal((await ca.client.get(`/api/v1/alert-rules/${global.body.id}`)).status, 200, 'but sees it');
      assert.equal((await app.superadmin.client.delete(`/api/v1/alert-rules/${global.body.id}`)).status, 204);
      assert.equal((await cay.client.get(`/api/v1/alert-rules/${custom.body.id}`)).status, 404, 'another tenant\'s rule is not found');
      assert.equal((await cay.client.patch(`/api/v1/alert-rules/${custom.body.id}`, { threshold: 2 })).status, 404);
    });

    it('PATCH changes threshold, enabled, duration and severity, still validated; changes are audited', async () => {
      const created = await createRule(ca.client, { name: 'Patchable', metric: 'pressure', threshold: 150 });
      const id = created.body.id;
      const patched = await ca.client.patch(`/api/v1/alert-rules/${id}`, { threshold: 160, enabled: false, durationSeconds: 600, severity: 'warning' });
      assert.equal(patched.status, 200);
      assert.deepEqual([patched.body.threshold, patched.body.enabled, patched.body.durationSeconds, patched.body.severity], [160, false, 600, 'warning']);
      const wrongSide = await ca.client.patch(`/api/v1/alert-rules/${id}`, { clearThreshold: 170 });
      assert.equal(wrongSide.status, 400);
      assert.equal((await ca.client.patch(`/api/v1/alert-rules/${id}`, { scope: 'device' })).status, 400, 'the scope stays');
      const audit = await ca.client.get(`/api/v1/audit?resourceType=alert_rule&resourceId=${id}`);
      assert.deepEqual(audit.body.items.map((e: { action: string }) => e.action), ['alert_rule.updated', 'alert_rule.created']);
    });
  });

  describe('evaluation', () => {
    it('priority: a sustained 9 °C opens one alert, from the equipment rule; effective-rules ranks all three (checklist 33)', async () => {
      const e1 = await fridge(b1);
      const e2 = await fridge(b2);
      const device = await createRule(ca.client, { name: 'E1 > 7', scope: 'device', deviceId: e1.id, threshold: 7 });
      const company = await createRule(ca.client, { name: 'X > 8', threshold: 8, deviceKind: 'refrigeration' });
      const global = await createRule(app.superadmin.client, { name: 'Global > 10', scope: 'global', threshold: 10 });
      assert.deepEqual([device.status, company.status, global.status], [201, 201, 201]);
      try {
        const ranked = await ca.client.get(`/api/v1/devices/${e1.id}/effective-rules`);
        assert.equal(ranked.status, 200);
        const mine = ranked.body.rules.filter((r: { rule: { id: string } }) => [device.body.id, company.body.id, global.body.id].includes(r.rule.id));
        assert.deepEqual(mine.map((r: { priority: number; overridden: boolean }) => [r.priority, r.overridden]), [[1, false], [3, true], [4, true]]);

        await send(e1.key, series('temperature', 9, -7, 0));
        await send(e2.key, series('temperature', 9, -7, 0));
        const onE1 = await alertsOf(ca.client, e1.id);
        assert.equal(onE1.length, 1, 'exactly one alert');
        assert.equal(onE1[0]!.ruleId, device.body.id);
        const onE2 = await alertsOf(ca.client, e2.id);
        assert.deepEqual(onE2.map((a) => a.ruleId), [company.body.id], 'without an equipment rule the company rule applies');
      } finally {
        await app.superadmin.client.delete(`/api/v1/alert-rules/${global.body.id}`);
        await ca.client.delete(`/api/v1/alert-rules/${device.body.id}`);
        await ca.client.delete(`/api/v1/alert-rules/${company.body.id}`);
      }
    });

    it('persistence and lifecycle: short breaches raise nothing; a long one raises exactly one, updated, then resolved on return (checklist 34)', async () => {
      const unit = await fridge(b1);
      const rule = await createRule(ca.client, {
        scope: 'device', deviceId: unit.id, threshold: 7, clearThreshold: 6, messageTemplate: 'Temperature exceeded {{threshold}}°C: current {{value}}°C',
      });
      await send(unit.key, [...series('temperature', 9, -30, -27), { ts: minutes(-26), values: { temperature: 4 } }]);
      assert.equal((await alertsOf(ca.client, unit.id)).length, 0, 'four minutes above is less than five');

      const excursion = series('temperature', 9.5, -20, -14);
      await send(unit.key, excursion);
      let alerts = await alertsOf(ca.client, unit.id);
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]!.message, 'Temperature exceeded 7°C: current 9.5°C');
      assert.equal(alerts[0]!.status, 'open');
      assert.equal(alerts[0]!.startedAt, excursion[0]!.ts, 'started when the breach began');

      await send(unit.key, [...series('temperature', 11, -13, -12), { ts: minutes(-11), values: { temperature: 6.5 } }]);
      alerts = await alertsOf(ca.client, unit.id);
      assert.equal(alerts.length, 1, 'no duplicate while open');
      assert.equal(alerts[0]!.peakValue, 11);
      assert.equal(alerts[0]!.latestValue, 6.5, 'inside the hysteresis band: still open');
      assert.ok((alerts[0]!.breachCount as number) >= 3);

      await send(unit.key, series('temperature', 4, -10, -4));
      alerts = await alertsOf(ca.client, unit.id);
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]!.status, 'resolved');
      assert.equal(alerts[0]!.resolution, 'auto');
      assert.ok(alerts[0]!.resolvedAt);
      assert.equal(alerts[0]!.resolvedBy, null);

      await send(unit.key, series('temperature', 12, -3, 3));
      assert.equal((await alertsOf(ca.client, unit.id, 'active')).length, 1, 'a new excursion opens a new alert');
      assert.equal((await ca.client.delete(`/api/v1/alert-rules/${rule.body.id}`)).status, 204);
      const kept = await alertsOf(ca.client, unit.id);
      assert.equal(kept.length, 2, 'deleting the rule keeps its alerts');
      assert.ok(kept.every((a) => a.ruleId === null && a.status === 'resolved'));
    });

    it('an open alert of a rule that a newer, more specific rule overrides is resolved by the timer job', async () => {
      const unit = await fridge(b2);
      const site = await createRule(ca.client, { scope: 'site', siteId: b2, metric: 'humidity', threshold: 80, durationSeconds: 60 });
      await send(unit.key, series('humidity', 90, -3, 0));
      assert.equal((await alertsOf(ca.client, unit.id, 'open'))[0]!.ruleId, site.body.id);
      await createRule(ca.client, { scope: 'device', deviceId: unit.id, metric: 'humidity', threshold: 95, durationSeconds: 60 });
      await app.runtime.jobs.tick('alert-timers');
      const [alert] = await alertsOf(ca.client, unit.id);
      assert.deepEqual([alert!.status, alert!.resolution], ['resolved', 'rule_changed']);
    });

    it('an inactive rule never fires; active hours limit when a rule is in force', async () => {
      const unit = await fridge(b2);
      await createRule(ca.client, { scope: 'device', deviceId: unit.id, metric: 'pressure', threshold: 100, enabled: false });
      await createRule(ca.client, { scope: 'device', deviceId: unit.id, metric: 'humidity', threshold: 50, activeHours: { days: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '00:01' } });
      await send(unit.key, series('pressure', 200, -20, 0).map((item, i) => ({ ts: item.ts, values: { ...item.values, humidity: 60 + i } })));
      assert.equal((await alertsOf(ca.client, unit.id)).length, 0);
    });

    it('a breach with no later reading opens once its duration has passed (timer job)', async () => {
      const unit = await fridge(b1);
      await createRule(ca.client, { scope: 'device', deviceId: unit.id, threshold: 8, durationSeconds: 120 });
      await send(unit.key, [{ ts: minutes(-1), values: { temperature: 10 } }]);
      await app.runtime.jobs.tick('alert-timers');
      assert.equal((await alertsOf(ca.client, unit.id)).length, 0, 'one minute is not yet two');
      await app.runtime.ctx.pool.query(`UPDATE alert_rule_states SET breach_since = now() - interval '3 minutes' WHERE device_id = $1`, [unit.id]);
      await app.runtime.jobs.tick('alert-timers');
      assert.equal((await alertsOf(ca.client, unit.id, 'open')).length, 1);
    });

    it('door open longer than N minutes, and event rules (speeding) open at once and count repeats', async () => {
      const unit = await fridge(b1);
      await createRule(ca.client, { scope: 'device', deviceId: unit.id, condition: 'door_open', metric: null, operator: null, threshold: null, durationSeconds: 180, severity: 'warning' });
      await send(unit.key, [...series('door', 1, -10, -9), { ts: minutes(-8), values: { door: 0 } }]);
      assert.equal((await alertsOf(ca.client, unit.id)).length, 0);
      await send(unit.key, series('door', 1, -6, -2));
      const door = await alertsOf(ca.client, unit.id);
      assert.equal(door.length, 1);
      assert.match(door[0]!.message as string, /door open for more than 3 min/);

      const radar = await fridge(b1, 'speed_radar');
      await createRule(ca.client, { scope: 'device', deviceId: radar.id, condition: 'event', metric: 'speed', eventKind: 'speed', threshold: 80, durationSeconds: 600, severity: 'major' });
      const events = [70, 90, 95, 60].map((speed, i) => ({ ts: minutes(-5 + i), kind: 'speed', speed, client_ref: `s${i}` }));
      const stored = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': radar.key }, payload: { events } });
      assert.equal(stored.statusCode, 200);
      const speeding = await alertsOf(ca.client, radar.id);
      assert.equal(speeding.length, 1);
      assert.deepEqual([speeding[0]!.breachCount, speeding[0]!.peakValue, speeding[0]!.firstValue], [2, 95, 90]);
    });

    it('a pending breach survives a restart: another process continues the duration from the stored state', async () => {
      const unit = await fridge(b1);
      await createRule(ca.client, { scope: 'device', deviceId: unit.id, threshold: 8, durationSeconds: 300 });
      await send(unit.key, series('temperature', 9, -10, -8));
      assert.equal((await alertsOf(ca.client, unit.id)).length, 0, 'two minutes of five');
      const second = await startRuntime(app.config, { logger: pino({ level: 'silent' }) });
      try {
        const response = await second.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': unit.key }, payload: { items: series('temperature', 9, -7, -4) } });
        assert.equal(response.statusCode, 200);
      } finally {
        await second.close();
      }
      const alerts = await alertsOf(ca.client, unit.id);
      assert.equal(alerts.length, 1);
      assert.ok(Date.parse(alerts[0]!.startedAt as string) < Date.now() - 9 * 60_000, 'the breach started before the restart');
    });

    it('two batches evaluated in parallel never open two alerts for one rule and device; the database refuses a second', async () => {
      const unit = await fridge(b2);
      const rule = await createRule(ca.client, { scope: 'device', deviceId: unit.id, threshold: 8, durationSeconds: 60 });
      for (let round = 0; round < 5; round++) {
        const base = -100 + round * 20;
        const a = [0, 1, 2, 3].map((m) => ({ ts: minutes(base + m), values: { temperature: 10 } }));
        const b = [0, 1, 2, 3].map((m) => ({ ts: new Date(Date.parse(minutes(base + m)) + 30_000).toISOString(), values: { temperature: 11 } }));
        await Promise.all([send(unit.key, a), send(unit.key, b)]);
        const open = await app.runtime.ctx.pool.query(`SELECT count(*)::int AS n FROM alerts WHERE rule_id = $1 AND status <> 'resolved'`, [rule.body.id]);
        assert.equal(open.rows[0].n, 1);
      }
      await assert.rejects(
        app.runtime.ctx.pool.query(`INSERT INTO alerts (org_id, device_id, rule_id, rule_name, condition, severity, message, started_at)
          SELECT org_id, device_id, rule_id, rule_name, condition, severity, message, started_at FROM alerts WHERE rule_id = $1`, [rule.body.id]),
        /alerts_one_open_per_rule_device/,
      );
    });
  });

  describe('lifecycle and visibility', () => {
    let e1Alert: string;
    let e2Alert: string;
    let e2: { id: string; key: string };

    before(async () => {
      const e1 = await fridge(b1);
      e2 = await fridge(b2);
      await createRule(ca.client, { scope: 'site', siteId: b1, threshold: 5, durationSeconds: 60, severity: 'major' });
      await createRule(ca.client, { scope: 'site', siteId: b2, threshold: 5, durationSeconds: 60, severity: 'warning' });
      await send(e1.key, series('temperature', 9, -5, 0));
      await send(e2.key, series('temperature', 9, -5, 0));
      e1Alert = (await alertsOf(ca.client, e1.id))[0]!.id as string;
      e2Alert = (await alertsOf(ca.client, e2.id))[0]!.id as string;
    });

    it('acknowledging: operators and admins with a comment; viewers 403; another company 404; resolved stays resolved (checklist 35)', async () => {
      assert.equal((await viewer.client.post(`/api/v1/alerts/${e1Alert}/acknowledge`, { comment: 'seen' })).status, 403);
      assert.equal((await cay.client.post(`/api/v1/alerts/${e1Alert}/acknowledge`, {})).status, 404);
      const acked = await ca.client.post(`/api/v1/alerts/${e1Alert}/acknowledge`, { comment: 'technician called' });
      assert.equal(acked.status, 200);
      assert.equal(acked.body.status, 'acknowledged');
      assert.equal(acked.body.acknowledgedBy, ca.userId);
      assert.equal(acked.body.acknowledgeComment, 'technician called');
      assert.ok(acked.body.acknowledgedAt);
      assert.equal((await ca.client.post(`/api/v1/alerts/${e1Alert}/acknowledge`, {})).status, 409, 'already acknowledged');

      const resolved = await operator.client.post(`/api/v1/alerts/${e2Alert}/resolve`);
      assert.equal(resolved.status, 200);
      assert.equal(resolved.body.resolvedBy, operator.userId);
      const again = await operator.client.post(`/api/v1/alerts/${e2Alert}/acknowledge`, {});
      assert.equal(again.status, 409);
      assert.match(again.body.error.message, /resolved/);
      assert.equal((await ca.client.get(`/api/v1/alerts/${e2Alert}`)).body.status, 'resolved');
    });

    it('a restricted viewer sees only their sites\' alerts, even when asking for another site (checklist 21)', async () => {
      const list = await restricted.client.get(`/api/v1/alerts?siteId=${b2}`);
      assert.equal(list.status, 200);
      assert.equal(list.body.items.length, 0);
      const all = await restricted.client.get('/api/v1/alerts?limit=200');
      assert.ok(all.body.items.every((a: { siteId: string }) => a.siteId === b1));
      assert.ok(all.body.items.some((a: { id: string }) => a.id === e1Alert));
      assert.equal((await restricted.client.get(`/api/v1/alerts/${e2Alert}`)).status, 404);
      assert.equal((await restricted.client.get(`/api/v1/devices/${e2.id}/alerts`)).status, 404);
      assert.equal((await cay.client.get(`/api/v1/alerts/${e1Alert}`)).status, 404);
      assert.equal((await cay.client.get('/api/v1/alerts')).body.items.length, 0);
    });

    it('lists filter, search and page by keyset; bulk acknowledge skips what is not open', async () => {
      const page1 = await ca.client.get('/api/v1/alerts?limit=2');
      assert.equal(page1.body.items.length, 2);
      const page2 = await ca.client.get(`/api/v1/alerts?limit=2&cursor=${page1.body.nextCursor}`);
      const ids = [...page1.body.items, ...page2.body.items].map((a: { id: string }) => a.id);
      assert.equal(new Set(ids).size, ids.length, 'pages do not overlap');
      const majors = await ca.client.get('/api/v1/alerts?severity=major&status=active');
      assert.ok(majors.body.items.every((a: { severity: string }) => a.severity === 'major'));
      const searched = await ca.client.get(`/api/v1/alerts?search=${encodeURIComponent('Unit')}`);
      assert.ok(searched.body.items.length > 0);
      assert.equal((await ca.client.get('/api/v1/alerts?cursor=garbage')).status, 400);

      const open = (await ca.client.get('/api/v1/alerts?status=open&limit=200')).body.items.map((a: { id: string }) => a.id);
      const bulk = await operator.client.post('/api/v1/alerts/acknowledge', { ids: [...open, e2Alert], comment: 'shift handover' });
      assert.equal(bulk.status, 200);
      assert.equal(bulk.body.acknowledged.length, open.length);
      assert.deepEqual(bulk.body.skipped, [e2Alert]);
      assert.equal((await viewer.client.post('/api/v1/alerts/acknowledge', { ids: open })).status, 403);
    });

    it('statistics count only what the caller may see, and "statistics" is not an alert id (checklist 37)', async () => {
      const stats = await ca.client.get('/api/v1/alerts/statistics');
      assert.equal(stats.status, 200, JSON.stringify(stats.body));
      assert.equal(typeof stats.body.totalActive, 'number');
      assert.ok(stats.body.totalActive > 0);
      assert.equal(stats.body.bySeverity.major + stats.body.bySeverity.critical + stats.body.bySeverity.warning + stats.body.bySeverity.minor + stats.body.bySeverity.info, stats.body.totalActive);
      assert.ok(stats.body.byType.temperature > 0);
      assert.ok(stats.body.timeToAcknowledge.count > 0);
      assert.ok(stats.body.noisiestDevices.length > 0);
      assert.ok(stats.body.noisiestRules.length > 0);
      const mine = await restricted.client.get('/api/v1/alerts/statistics');
      assert.ok(mine.body.totalActive < stats.body.totalActive, 'a restricted viewer counts only B1');
      assert.equal((await cay.client.get('/api/v1/alerts/statistics')).body.totalActive, 0);
      const counts = await ca.client.get('/api/v1/alerts/counts');
      assert.equal(counts.body.totalActive, stats.body.totalActive);
    });
  });

  it('no telemetry for the offline window opens an offline alert and the status is offline; the next reading resolves it (checklist 36)', async () => {
    const unit = await fridge(b1);
    await createRule(ca.client, { scope: 'device', deviceId: unit.id, condition: 'offline', metric: null, operator: null, threshold: null, durationSeconds: 600, severity: 'major' });
    await send(unit.key, [{ ts: minutes(0), values: { temperature: 4 } }]);
    const { pool } = app.runtime.ctx;
    await pool.query(`UPDATE devices SET last_seen_at = now() - interval '1 hour' WHERE id = $1`, [unit.id]);
    await pool.query(`UPDATE device_keys SET last_used_at = now() - interval '1 hour' WHERE device_id = $1`, [unit.id]);
    await app.runtime.jobs.tick('device-offline');
    await app.runtime.jobs.tick('alert-timers');
    const offline = await alertsOf(ca.client, unit.id, 'open');
    assert.equal(offline.length, 1);
    assert.equal(offline[0]!.condition, 'offline');
    assert.equal((await ca.client.get(`/api/v1/devices/${unit.id}`)).body.status, 'offline');
    await app.runtime.jobs.tick('alert-timers');
    assert.equal((await alertsOf(ca.client, unit.id)).length, 1, 'one alert while it stays silent');

    await send(unit.key, [{ ts: minutes(0), values: { temperature: 4 } }]);
    const after = await alertsOf(ca.client, unit.id);
    assert.equal(after[0]!.status, 'resolved');
    assert.equal((await ca.client.get(`/api/v1/devices/${unit.id}`)).body.status, 'online');
  });
});
