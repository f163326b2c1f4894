/**
 * MQTT QoS 1 telemetry persisted, on the built server's embedded broker (`MQTT_PORT`), for each
 * database (the bundled PostgreSQL and the PostgreSQL service):
 *  1. MQTT: N devices, one connection each (user name = device key), each keeping a window of QoS 1
 *     publishes on `v1/devices/me/telemetry` in flight (one reading of three metrics per message).
 *     A message counts when its PUBACK arrives, which Vigil sends only after the commit: messages/s,
 *     PUBACK latency p50/p99, and CPU per message of Vigil, PostgreSQL and this process.
 *  2. The baseline, same run and database: `INSERT … SELECT FROM unnest` of the same readings (under
 *     metric names of their own, so keys never collide) into the same `telemetry` table from this process (8 connections, 100 messages' readings per statement),
 *     without rollups: messages/s (three readings each).
 * After each phase the readings stored are checked against the PUBACKs counted.
 *
 * Settings (environment): BENCH_MQTT_SECONDS (20), BENCH_MQTT_WARMUP_SECONDS (3), BENCH_MQTT_DEVICES (50),
 * BENCH_MQTT_WINDOW (20 messages in flight per connection), BENCH_MQTT_DATABASES ("bundled,service"),
 * BENCH_MQTT_SERVICE_URL (postgres://postgres@127.0.0.1:5432/postgres, where a fresh database is created).
 */
import fs from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import { type Benchmark, cpuSpent, cpuTimes, createScratchDatabase, envInt, freePort, makeTempDir, now, type Reporter, round, sleep, watchPostgresOf } from './lib.js';
import { bundledUrl, createDevice, type Device, setUpAndSignIn, startVigil, stopVigil, waitReady } from './vigil.js';

function settings() {
  const databases = (process.env.BENCH_MQTT_DATABASES ?? 'bundled,service').split(',').map((d) => d.trim()).filter(Boolean);
  for (const d of databases) if (d !== 'bundled' && d !== 'service') throw new Error(`BENCH_MQTT_DATABASES: unknown "${d}" (bundled, service)`);
  return {
    seconds: envInt('BENCH_MQTT_SECONDS', 20, 1, 3600),
    warmupSeconds: envInt('BENCH_MQTT_WARMUP_SECONDS', 3, 0, 600),
    devices: envInt('BENCH_MQTT_DEVICES', 50, 1, 1000),
    window: envInt('BENCH_MQTT_WINDOW', 20, 1, 1000),
    databases: databases as ('bundled' | 'service')[],
    serviceUrl: process.env.BENCH_MQTT_SERVICE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  };
}
type Settings = ReturnType<typeof settings>;

const TOPIC = 'v1/devices/me/telemetry';
const METRICS_PER_MESSAGE = 3;
const RAW_CONNECTIONS = 8;
const RAW_MESSAGES_PER_STATEMENT = 100;
/** Each connection's timestamps start this far apart (ms), so that no two collide. */
const CLIENT_SPAN_MS = 1_000_000;

/** Each device's messages carry distinct timestamps, one millisecond apart from a per-phase start. */
class Timestamps {
  private next = 0;
  constructor(private readonly start: number) {}
  take(): number {
    return this.start + this.next++;
  }
}

interface Phase {
  messages: number;
  seconds: number;
  latencies: number[];
  errors: string[];
}

/** Keeps `window` QoS 1 publishes in flight per connection until time is up; counts PUBACKs. */
async function mqttLoad(clients: mqtt.MqttClient[], s: Settings, seconds: number, start: number): Promise<Phase> {
  const phase: Phase = { messages: 0, seconds: 0, latencies: [], errors: [] };
  const began = now();
  const deadline = began + seconds * 1000;
  await Promise.all(clients.map((client, c) => {
    const times = new Timestamps(start + c * CLIENT_SPAN_MS);
    return new Promise<void>((resolve) => {
      let open = 0;
      const send = () => {
        if (now() >= deadline) {
          if (open === 0) resolve();
          return;
        }
        open += 1;
        const ts = times.take();
        const sent = now();
        const payload = JSON.stringify({ ts, values: { temperature: 3 + (ts % 50) / 10, pressure: 120 + (ts % 7), door: ts % 13 === 0 } });
        client.publish(TOPIC, payload, { qos: 1 }, (error) => {
          open -= 1;
          if (error) phase.errors.push(error.message);
          else {
            phase.messages += 1;
            phase.latencies.push(now() - sent);
          }
          send();
        });
      };
      for (let i = 0; i < s.window; i++) send();
    });
  }));
  phase.seconds = (now() - began) / 1000;
  return phase;
}

/** The baseline: the same readings inserted directly, 100 messages' worth per statement. */
async function rawLoad(pool: pg.Pool, devices: Device[], seconds: number, start: number): Promise<Phase> {
  const phase: Phase = { messages: 0, seconds: 0, latencies: [], errors: [] };
  const began = now();
  const deadline = began + seconds * 1000;
  await Promise.all(Array.from({ length: RAW_CONNECTIONS }, async (_, worker) => {
    const times = new Timestamps(start + worker * CLIENT_SPAN_MS);
    for (let round = 0; now() < deadline; round++) {
      const device = devices[(worker + round) % devices.length]!;
      const org: string[] = [], dev: string[] = [], ts: string[] = [], metric: string[] = [], value: number[] = [];
      for (let m = 0; m < RAW_MESSAGES_PER_STATEMENT; m++) {
        const at = new Date(times.take()).toISOString();
        for (const [name, v] of [['raw_temperature', 3.5], ['raw_pressure', 121], ['raw_door', 0]] as const) {
          org.push(device.ref.orgId); dev.push(device.ref.deviceId); ts.push(at); metric.push(name); value.push(v);
        }
      }
      const sent = now();
      await pool.query(
        `INSERT INTO telemetry (org_id, device_id, ts, metric, value)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::float8[])`,
        [org, dev, ts, metric, value],
      );
      phase.latencies.push(now() - sent);
      phase.messages += RAW_MESSAGES_PER_STATEMENT;
    }
  }));
  phase.seconds = (now() - began) / 1000;
  return phase;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function pgPids(monitor: pg.Client, database: string): Promise<number[]> {
  const rows = (await monitor.query<{ pid: number; datname: string | null }>('SELECT pid, datname FROM pg_stat_activity')).rows;
  return rows.filter((r) => r.datname === null || r.datname === database).map((r) => r.pid);
}

async function benchDatabase(report: Reporter, s: Settings, kind: 'bundled' | 'service'): Promise<void> {
  const tmp = makeTempDir(`vigil-bench-mqtt-${kind}-`);
  const dataDir = path.join(tmp, 'data');
  fs.mkdirSync(dataDir, { mode: 0o755 });
  fs.chmodSync(dataDir, 0o755);
  watchPostgresOf(dataDir);
  const service = kind === 'service' ? await createScratchDatabase(s.serviceUrl, 'vigil_bench_mqtt') : undefined;
  const [port, mqttPort] = [await freePort(), await freePort()];
  const started = now();
  const vigil = startVigil(`vigil (${kind})`, dataDir, port, { logLevel: 'warn', databaseUrl: service?.url, profileDir: process.env.BENCH_MQTT_PROFILE_OUT, env: { MQTT_PORT: String(mqttPort) } });
  const clients: mqtt.MqttClient[] = [];
  const clients5: mqtt.MqttClient[] = [];
  let monitor: pg.Client | undefined;
  let pool: pg.Pool | undefined;
  try {
    await waitReady(vigil, started);
    const user = await setUpAndSignIn(vigil);
    const devices: Device[] = [];
    for (let i = 0; i < s.devices; i++) {
      devices.push(await createDevice(vigil, user, { kind: 'refrigeration', name: `Bench fridge ${i + 1}`, serial: `MQTT-${i + 1}` }));
    }
    const url = service?.url ?? bundledUrl(vigil);
    const database = service?.name ?? 'vigil';
    monitor = new pg.Client({ connectionString: url });
    await monitor.connect();
    pool = new pg.Pool({ connectionString: url, max: RAW_CONNECTIONS });
    const version = (await monitor.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v.split(' ')[0];
    const label = `${kind} PG ${version}`;

    // Each device connects twice: over MQTT 3.1.1 and over MQTT 5 (another client id), one phase each.
    const connect = async (device: Device, protocolVersion: 4 | 5) => {
      const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, {
        username: device.apiKey, clientId: `bench-${device.ref.deviceId}-v${protocolVersion}`, protocolVersion, reconnectPeriod: 0,
      });
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      return client;
    };
    for (const device of devices) clients.push(await connect(device, 4));
    for (const device of devices) clients5.push(await connect(device, 5));
    report.log(`${label}: ${clients.length} devices connected to the embedded broker over MQTT 3.1.1 and 5; window ${s.window} messages each`);

    // Every phase writes from 36 h ago on (the warm-up's rows are truncated): the months' partitions exist by then.
    const start = Date.now() - 36 * 3_600_000;
    if (s.warmupSeconds > 0) await mqttLoad(clients, s, s.warmupSeconds, start);

    const rates: Record<'mqtt' | 'mqtt5' | 'raw', number> = { mqtt: 0, mqtt5: 0, raw: 0 };
    for (const mode of ['mqtt', 'mqtt5', 'raw'] as const) {
      // Each phase starts from empty tables (the same readings again, and the stored count is the phase's own).
      await monitor.query('TRUNCATE telemetry, telemetry_rollups_hourly, telemetry_rollup_pending');
      await monitor.query('CHECKPOINT');
      const pids = [vigil.child.pid, ...(await pgPids(monitor, database))];
      const before = cpuTimes(pids);
      const self = process.cpuUsage();
      const phase = mode === 'raw' ? await rawLoad(pool, devices, s.seconds, start) : await mqttLoad(mode === 'mqtt' ? clients : clients5, s, s.seconds, start);
      const after = cpuTimes([...pids, ...(await pgPids(monitor, database))]);
      const mine = process.cpuUsage(self);
      const rate = phase.messages / phase.seconds;
      rates[mode] = rate;
      report.add({ metric: `${label}, ${mode}: messages/s`, value: round(rate, 0), unit: 'msg/s', note: `${phase.messages.toLocaleString('en-US')} messages (${METRICS_PER_MESSAGE} readings each) in ${round(phase.seconds, 1)} s` });
      report.add({ metric: `${label}, ${mode}: ${mode === 'raw' ? 'statement' : 'PUBACK'} latency p50 / p99`, value: `${round(percentile(phase.latencies, 50), 1)} / ${round(percentile(phase.latencies, 99), 1)}`, unit: 'ms' });
      const vigilCpu = cpuSpent(before, new Map([...after].filter(([pid]) => pid === vigil.child.pid)));
      const pgCpu = cpuSpent(before, new Map([...after].filter(([pid]) => pid !== vigil.child.pid)));
      const perMessage = (ms: number) => round((ms * 1000) / Math.max(1, phase.messages), 2);
      report.add({
        metric: `${label}, ${mode}: CPU per message`,
        value: `${perMessage(vigilCpu.user + vigilCpu.system)} / ${perMessage(pgCpu.user + pgCpu.system)} / ${perMessage((mine.user + mine.system) / 1000)}`,
        unit: 'µs',
        note: 'Vigil / PostgreSQL / this process (MQTT clients or the direct inserts)',
      });
      if (phase.errors.length > 0) report.problem(`${label}, ${mode}: ${phase.errors.length} publishes failed, e.g. ${phase.errors[0]}`);
      const stored = Number((await monitor.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM telemetry WHERE (metric LIKE 'raw\\_%') = $1`, [mode === 'raw'])).rows[0]!.n);
      if (stored < phase.messages * METRICS_PER_MESSAGE) {
        report.problem(`${label}, ${mode}: ${stored} readings stored, fewer than the ${phase.messages * METRICS_PER_MESSAGE} acknowledged`);
      }
      await sleep(500);
    }
    report.add({ metric: `${label}: ratio MQTT ÷ raw INSERT`, value: round(rates.mqtt / rates.raw, 2), note: 'messages/s; the raw insert has no broker, validation or rollups' });
    report.add({ metric: `${label}: MQTT absolute`, value: round(rates.mqtt, 0), unit: 'msg/s', note: `target ≥ 20,000: ${rates.mqtt >= 20_000 ? 'met' : 'NOT met'}` });
    const ratio5 = rates.mqtt5 / rates.mqtt;
    report.add({ metric: `${label}: ratio MQTT 5 ÷ MQTT 3.1.1`, value: round(ratio5, 2), note: `same devices, same readings; target ≥ 0.90: ${ratio5 >= 0.9 ? 'met' : 'NOT met'}` });
  } finally {
    for (const client of [...clients, ...clients5]) client.end(true);
    await pool?.end().catch(() => undefined);
    await monitor?.end().catch(() => undefined);
    await stopVigil(vigil, report, kind);
    await service?.drop();
  }
}

export const mqttBench: Benchmark = {
  name: 'mqtt',
  description: 'MQTT QoS 1 telemetry persisted through the embedded broker, against a raw INSERT of the same readings',
  needsBuild: true,
  async run(report) {
    const s = settings();
    for (const kind of s.databases) await benchDatabase(report, s, kind);
  },
};
