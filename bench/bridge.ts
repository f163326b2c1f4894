/**
 * External MQTT bridge throughput: telemetry messages (QoS 1, one reading of two values each, from 50
 * devices) published at once to the Mosquitto service under a fresh topic prefix, timed until all are
 * stored, with the bridge on 1 connection and on MQTT_BRIDGE_CONNECTIONS' default of 4 (each connection
 * handles one message at a time, acknowledging after commit). Vigil runs in this process on a fresh
 * database of the PostgreSQL service. BENCH_BRIDGE_MESSAGES (1000) stays below Mosquitto's default
 * max_queued_messages (1000 per session, plus 20 in flight): beyond it the broker drops messages for
 * a single connection.
 *
 * Settings (environment): BENCH_BRIDGE_MESSAGES, BENCH_BRIDGE_CONNECTIONS ("1,4"),
 * BENCH_BRIDGE_BROKER (mqtt://127.0.0.1:1883), BENCH_BRIDGE_SERVICE_URL (postgres://postgres@127.0.0.1:5432/postgres).
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import pino from 'pino';
import { testConfig } from '../src/server/core/config.js';
import { MqttService } from '../src/server/mqtt/service.js';
import { startRuntime } from '../src/server/runtime.js';
import { type Benchmark, createScratchDatabase, envInt, makeTempDir, now, onCleanup, type Reporter, round, sleep } from './lib.js';

const ACTOR = { userId: null, label: 'bench', ip: null, userAgent: null };
const DEVICES = 50;

async function measure(report: Reporter, connections: number, messages: number, broker: string, serviceUrl: string) {
  const scratch = await createScratchDatabase(serviceUrl, 'vigil_bench_bridge');
  const prefix = `vigil-bench-${randomBytes(4).toString('hex')}`;
  const forgetSessions = async () => {
    for (const id of [prefix, ...Array.from({ length: connections - 1 }, (_, i) => `${prefix}-${i + 1}`)]) {
      const client = await mqtt.connectAsync(broker, { clientId: id, clean: true, reconnectPeriod: 0 }).catch(() => undefined);
      await client?.endAsync();
    }
  };
  const unregister = onCleanup(`forget the bridge sessions ${prefix}`, forgetSessions);
  const runtime = await startRuntime(testConfig({ databaseUrl: scratch.url, dataDir: makeTempDir('vigil-bench-bridge-') }), { logger: pino({ level: 'silent' }) });
  const ctx = { ...runtime.ctx, config: { ...runtime.ctx.config, mqttUrl: broker, mqttBridgeConnections: connections } };
  const bridge = new MqttService(ctx, runtime.services.devices, runtime.services.ingest, { topicPrefix: prefix, clientId: prefix });
  try {
    await bridge.start();
    const { organization, user } = await runtime.services.setup.createUserWithOrganization(
      { email: `${prefix}@example.com`, name: 'Bench', password: 'bench-password-0123', organizationName: 'Bench bridge' }, ACTOR);
    const scope = { orgId: organization.id, userId: user.id, role: 'owner' as const, siteIds: null };
    const keys: string[] = [];
    for (let i = 0; i < DEVICES; i++) keys.push((await runtime.services.devices.create(scope, { kind: 'refrigeration', name: `Unit ${i}`, serial: `B-${i}` }, ACTOR)).key);
    const publisher = await mqtt.connectAsync(broker, { clientId: `${prefix}-publisher` });
    const started = now();
    await Promise.all(Array.from({ length: messages }, (_, i) => publisher.publishAsync(`${prefix}/v1/telemetry`,
      JSON.stringify({ key: keys[i % DEVICES], data: { ts: Date.parse('2026-11-01T00:00:00Z') + i * 1000, values: { temperature: 4 + (i % 5), humidity: 50 } } }), { qos: 1 })));
    let stored = 0;
    const deadline = started + 120_000;
    while (now() < deadline) {
      stored = Number((await runtime.ctx.pool.query('SELECT count(*) AS n FROM telemetry')).rows[0].n) / 2;
      if (stored >= messages) break;
      await sleep(20);
    }
    const seconds = (now() - started) / 1000;
    await publisher.endAsync();
    if (stored < messages) report.problem(`${connections} connection(s): only ${stored} of ${messages} messages stored within 120 s`);
    report.add({ metric: `${connections} connection${connections === 1 ? '' : 's'}`, value: round(stored / seconds, 0), unit: 'messages/s', note: `${stored} messages stored in ${round(seconds, 2)} s` });
  } finally {
    await bridge.stop();
    await runtime.close();
    unregister();
    await forgetSessions();
    await scratch.drop();
  }
}

export const bridge: Benchmark = {
  name: 'mqtt-bridge',
  description: 'external MQTT bridge (Mosquitto): QoS 1 telemetry messages stored per second, 1 vs 4 connections',
  needsBuild: false,
  async run(report) {
    const messages = envInt('BENCH_BRIDGE_MESSAGES', 1000, 10, 1_000_000);
    const counts = (process.env.BENCH_BRIDGE_CONNECTIONS ?? '1,4').split(',').map((c) => Number(c.trim()));
    const broker = process.env.BENCH_BRIDGE_BROKER ?? 'mqtt://127.0.0.1:1883';
    const serviceUrl = process.env.BENCH_BRIDGE_SERVICE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    for (const connections of counts) await measure(report, connections, messages, broker, serviceUrl);
  },
};
