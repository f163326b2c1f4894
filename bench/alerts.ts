/**
 * Alert evaluation cost, in-process on the PostgreSQL service (a fresh database, dropped at the end):
 *  1. telemetry ingest over HTTP (concurrent clients, batches of readings of temperature, pressure and
 *     door from many refrigeration units, all within their limits as in normal operation) with no
 *     alert rules, then with 1,000 enabled rules (device, site and organization rules on those metrics),
 *     alternated twice; the ratio of readings/s with rules to without (target ≥ 0.8);
 *  2. latency from posting a telemetry batch that breaches a rule to the `alert.opened` message reaching
 *     a Server-Sent Events client over real HTTP (p50 / p99; target p99 < 200 ms).
 * It only prints. Settings: BENCH_ALERTS_SECONDS (10 per phase), BENCH_ALERTS_CONNECTIONS (4),
 * BENCH_ALERTS_BATCH (50 items), BENCH_ALERTS_DEVICES (50), BENCH_ALERTS_LATENCY_SAMPLES (200),
 * BENCH_ALERTS_SERVICE_URL (postgres://postgres@127.0.0.1:5432/postgres).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import pino from 'pino';
import { testConfig } from '../src/server/core/config.js';
import { startRuntime, type Runtime } from '../src/server/runtime.js';
import { RULES_CHANGED } from '../src/server/alerts/rule-book.js';
import { insertRule } from '../src/server/alerts/rules-store.js';
import type { RuleInput } from '../src/server/alerts/rule-model.js';
import { type Benchmark, makeTempDir, now, onCleanup, type Reporter, round } from './lib.js';

function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

interface Unit {
  id: string;
  key: string;
  siteId: string;
  next: number;
}

const ACTOR = { userId: null, label: 'bench', ip: null, userAgent: null };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function post(baseUrl: string, key: string, items: unknown[]): Promise<number> {
  const response = await fetch(`${baseUrl}/api/v1/ingest/telemetry`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ items }),
  });
  if (response.status !== 200) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { values: number }).values;
}

/** Normal readings, one second apart per unit, continuing where the unit's last batch stopped. */
function normalBatch(unit: Unit, size: number, base: number) {
  return Array.from({ length: size }, () => ({
    ts: new Date(base + (unit.next += 1) * 1000).toISOString(),
    values: { temperature: 3 + Math.random() * 2, pressure: 110 + Math.random() * 10, door: 0 },
  }));
}

async function ingestPhase(baseUrl: string, units: Unit[], seconds: number, connections: number, batch: number, base: number) {
  let readings = 0;
  let turn = 0;
  const deadline = now() + seconds * 1000;
  const started = now();
  await Promise.all(Array.from({ length: connections }, async () => {
    while (now() < deadline) {
      const unit = units[turn++ % units.length]!;
      readings += await post(baseUrl, unit.key, normalBatch(unit, batch, base));
    }
  }));
  return readings / ((now() - started) / 1000);
}

/** 1,000 rules as an organization would have them: per unit, per site and organization-wide, on the metrics units send. */
async function createRules(runtime: Runtime, orgId: string, units: Unit[], count: number): Promise<void> {
  const rule = (i: number, over: Partial<RuleInput>): RuleInput => ({
    name: `Rule ${i}`, scope: 'organization', condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 8 + (i % 5),
    durationSeconds: 300, severity: 'warning', messageTemplate: '{{device}}: {{metric}} {{value}}', ...over,
  });
  const metrics = ['temperature', 'pressure', 'humidity', 'fan', 'compressor'];
  const sites = [...new Set(units.map((u) => u.siteId))];
  for (let i = 0; i < count; i++) {
    const metric = metrics[i % metrics.length]!;
    const threshold = metric === 'pressure' ? 150 + (i % 7) : 8 + (i % 5);
    const input = i % 10 === 0
      ? rule(i, { metric, threshold, scope: 'site', siteId: sites[i % sites.length]! })
      : i % 25 === 1
        ? rule(i, { metric, threshold })
        : rule(i, { metric, threshold, scope: 'device', deviceId: units[i % units.length]!.id });
    await insertRule(runtime.ctx.db, orgId, input, null);
  }
  await insertRule(runtime.ctx.db, orgId, { ...rule(count, {}), name: 'door', condition: 'door_open', metric: null, operator: null, threshold: null, durationSeconds: 120 }, null);
  await runtime.ctx.bus.publish({ type: RULES_CHANGED, orgId, data: {} });
}

/** Opens the live stream and calls `onAlert(deviceId)` for every alert.opened it receives. */
function openStream(baseUrl: string, cookie: string, onAlert: (deviceId: string) => void): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${baseUrl}/api/v1/stream`, { headers: { accept: 'text/event-stream', cookie } }, (response) => {
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let split: number;
        while ((split = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          if (!frame.includes('event: alert.opened')) continue;
          const data = frame.split('\n').find((line) => line.startsWith('data: '));
          if (data) onAlert((JSON.parse(data.slice(6)) as { alert: { deviceId: string } }).alert.deviceId);
        }
      });
      resolve(request);
    });
    request.on('error', reject);
  });
}

async function latency(baseUrl: string, cookie: string, units: Unit[], samples: number, base: number, report: Reporter): Promise<number[]> {
  const waiting = new Map<string, () => void>();
  const stream = await openStream(baseUrl, cookie, (deviceId) => waiting.get(deviceId)?.());
  const times: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const unit = units[i % units.length]!;
      // Two readings a minute apart above 30 °C: the latency rule (duration 60 s) opens in this batch.
      const hot = [0, 1].map(() => ({ ts: new Date(base + (unit.next += 60) * 1000).toISOString(), values: { temperature: 31 } }));
      const arrived = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no alert.opened for ${unit.id} within 5 s`)), 5000);
        waiting.set(unit.id, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const started = now();
      await post(baseUrl, unit.key, hot);
      await arrived;
      times.push(now() - started);
      waiting.delete(unit.id);
      // Back to normal for longer than the duration: the alert resolves, so the next round opens a new one.
      await post(baseUrl, unit.key, [0, 1, 2].map(() => ({ ts: new Date(base + (unit.next += 60) * 1000).toISOString(), values: { temperature: 4 } })));
    }
  } catch (error) {
    report.problem(String(error));
  } finally {
    stream.destroy();
  }
  return times.sort((a, b) => a - b);
}

export const alerts: Benchmark = {
  name: 'alerts',
  description: 'telemetry ingest with 1,000 active alert rules against none (ratio); batch → SSE alert latency',
  needsBuild: false,
  async run(report) {
    const seconds = envInt('BENCH_ALERTS_SECONDS', 10);
    const connections = envInt('BENCH_ALERTS_CONNECTIONS', 4);
    const batch = envInt('BENCH_ALERTS_BATCH', 50);
    const deviceCount = envInt('BENCH_ALERTS_DEVICES', 50);
    const samples = envInt('BENCH_ALERTS_LATENCY_SAMPLES', 200);
    const serviceUrl = process.env.BENCH_ALERTS_SERVICE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

    const database = `vigil_bench_alerts_${process.pid}`;
    const admin = new pg.Client({ connectionString: serviceUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const url = new URL(serviceUrl);
    url.pathname = `/${database}`;
    onCleanup(`drop ${database}`, async () => {
      const client = new pg.Client({ connectionString: serviceUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await client.end();
    });

    const runtime = await startRuntime(testConfig({ databaseUrl: url.toString(), dataDir: makeTempDir('vigil-bench-alerts-'), logLevel: 'silent' }), { logger: pino({ level: 'silent' }) });
    onCleanup('alerts runtime', () => runtime.close());
    await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const baseUrl = `http://127.0.0.1:${(runtime.app.server.address() as AddressInfo).port}`;

    const password = 'correct horse battery staple';
    const { organization, user } = await runtime.services.setup.createUserWithOrganization(
      { email: 'bench@example.com', name: 'Bench', password, organizationName: 'Bench cold chain' }, ACTOR,
    );
    const scope = { orgId: organization.id, userId: user.id, role: 'owner' as const, siteIds: null };
    const sites = await Promise.all([1, 2, 3, 4, 5].map((n) => runtime.services.sites.create(scope, { name: `Branch ${n}` }, ACTOR)));
    const units: Unit[] = [];
    for (let i = 0; i < deviceCount + 10; i++) {
      const siteId = sites[i % sites.length]!.id;
      const created = await runtime.services.devices.create(scope, { kind: 'refrigeration', name: `Unit ${i}`, serial: `U-${i}`, siteId }, ACTOR);
      units.push({ id: created.device.id, key: created.key, siteId, next: 0 });
    }
    const loadUnits = units.slice(0, deviceCount);
    const latencyUnits = units.slice(deviceCount);
    const base = Date.now() - 6 * 3_600_000;
    await ingestPhase(baseUrl, loadUnits, 2, connections, batch, base);

    const without: number[] = [];
    const withRules: number[] = [];
    without.push(await ingestPhase(baseUrl, loadUnits, seconds, connections, batch, base));
    await createRules(runtime, organization.id, loadUnits, 1000);
    withRules.push(await ingestPhase(baseUrl, loadUnits, seconds, connections, batch, base));
    await runtime.ctx.pool.query('UPDATE alert_rules SET enabled = false');
    await runtime.ctx.bus.publish({ type: RULES_CHANGED, orgId: organization.id, data: {} });
    without.push(await ingestPhase(baseUrl, loadUnits, seconds, connections, batch, base));
    await runtime.ctx.pool.query('UPDATE alert_rules SET enabled = true');
    await runtime.ctx.bus.publish({ type: RULES_CHANGED, orgId: organization.id, data: {} });
    withRules.push(await ingestPhase(baseUrl, loadUnits, seconds, connections, batch, base));

    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const note = `${connections} clients × ${batch} items × 3 metrics, ${deviceCount} units, ${seconds} s per phase, phases alternated`;
    report.add({ metric: 'Telemetry ingest, no alert rules', value: Math.round(mean(without)), unit: 'readings/s', note: without.map((v) => Math.round(v)).join(', ') });
    report.add({ metric: 'Telemetry ingest, 1,000 enabled rules', value: Math.round(mean(withRules)), unit: 'readings/s', note: withRules.map((v) => Math.round(v)).join(', ') });
    const ratio = mean(withRules) / mean(without);
    report.add({ metric: 'Ratio with rules ÷ without', value: round(ratio, 2), note: `target ≥ 0.8: ${ratio >= 0.8 ? 'met' : 'not met'}; ${note}` });
    const open = await runtime.ctx.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM alerts`);
    if (open.rows[0]!.n > 0) report.problem(`${open.rows[0]!.n} alerts opened during the ingest phases; the readings were meant to be normal`);

    for (const unit of latencyUnits) {
      await insertRule(runtime.ctx.db, organization.id, {
        name: `Latency ${unit.id}`, scope: 'device', deviceId: unit.id, condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 30,
        durationSeconds: 60, severity: 'critical', messageTemplate: '{{device}} {{value}}',
      }, null);
    }
    await runtime.ctx.bus.publish({ type: RULES_CHANGED, orgId: organization.id, data: {} });
    const login = await fetch(`${baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@example.com', password }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const times = await latency(baseUrl, cookie, latencyUnits, samples, base + 20 * 3_600_000, report);
    if (times.length > 0) {
      report.add({ metric: 'Batch → alert.opened on SSE: p50', value: round(percentile(times, 50), 1), unit: 'ms', note: `${times.length} alerts, with the 1,000 rules active` });
      const p99 = percentile(times, 99);
      report.add({ metric: 'Batch → alert.opened on SSE: p99', value: round(p99, 1), unit: 'ms', note: `target < 200 ms: ${p99 < 200 ? 'met' : 'not met'}; max ${round(times[times.length - 1]!, 1)} ms` });
    }
  },
};
