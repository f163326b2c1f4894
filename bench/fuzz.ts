/**
 * Fuzz at scale: FUZZ_HTTP (8,000) hostile HTTP bodies and FUZZ_MQTT (2,000) hostile MQTT publishes, 10,000 in all,
 * against every device endpoint and topic (tests/helpers/fuzz-targets.ts, the generators of
 * tests/fuzz-devices.test.ts), sent to the built server (`node bin/vigil.js serve`) with its bundled PostgreSQL
 * and embedded broker over real HTTP and MQTT 3.1.1 and 5. Prints the answers by status and endpoint, every 5xx,
 * MQTT outcomes by topic, connections the server closed, and whether the server is still up and ready.
 * FUZZ_SEED replays a run. It only prints: no thresholds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../tests/helpers/fuzz.js';
import { FuzzConnection } from '../tests/helpers/fuzz-mqtt.js';
import { DeviceFuzz, type FuzzDevices } from '../tests/helpers/fuzz-targets.js';
import { type Benchmark, envInt, freePort, makeTempDir, now, type Reporter, round, tryFetch, watchPostgresOf } from './lib.js';
import { api, createDevice, setUpAndSignIn, startVigil, stopVigil, type Vigil, waitReady } from './vigil.js';

const CONCURRENCY = 8;
const MQTT_ROUND = 20;
const WILDCARD = /[+#]/;

function settings() {
  return {
    http: envInt('FUZZ_HTTP', 8000, 0, 1_000_000),
    mqtt: envInt('FUZZ_MQTT', 2000, 0, 1_000_000),
    seed: envInt('FUZZ_SEED', 20_261_207, 0, 2 ** 32 - 1),
  };
}

const count = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);
const describeCounts = <K>(map: Map<K, number>) => [...map].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([k, n]) => `${k}: ${n}`).join(', ');

async function fuzzHttp(report: Reporter, vigil: Vigil, fuzz: DeviceFuzz, cases: number): Promise<void> {
  const statuses = new Map<number | string, number>();
  const serverErrors = new Map<string, number>();
  let next = 0;
  const started = now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < cases) {
      const index = next++;
      const c = fuzz.httpCase();
      const headers: Record<string, string> = { 'x-api-key': fuzz.keyOf(c.device) };
      if (c.contentType) headers['content-type'] = c.contentType;
      const response = await tryFetch(`${vigil.base}${c.url}`, { method: c.method, headers, body: c.payload }, 90_000);
      const status = response?.status ?? 'no answer';
      await response?.arrayBuffer().catch(() => undefined);
      count(statuses, status);
      if (typeof status !== 'number' || status >= 500) {
        count(serverErrors, c.endpoint);
        if ([...serverErrors.values()].reduce((a, b) => a + b, 0) <= 10) {
          report.problem(`#${index} ${c.endpoint}: ${status} ← ${c.method} ${c.url.slice(0, 150)} ${c.contentType ?? ''} ${c.payload?.slice(0, 200) ?? ''}`);
        }
      }
    }
  }));
  report.add({ metric: 'HTTP bodies sent', value: cases, note: `${fuzz.endpoints.length} endpoints, ${round((now() - started) / 1000, 0)} s` });
  report.add({ metric: 'HTTP answers by status', value: describeCounts(statuses) });
  const total = [...serverErrors.values()].reduce((a, b) => a + b, 0);
  report.add({ metric: 'HTTP 5xx or no answer', value: total, note: total ? describeCounts(serverErrors) : 'none' });
}

async function fuzzMqtt(report: Reporter, port: number, fuzz: DeviceFuzz, devices: FuzzDevices, cases: number): Promise<void> {
  const url = `mqtt://127.0.0.1:${port}`;
  for (const version of [4, 5] as const) {
    const connections = { radar: new FuzzConnection(url, devices.radar, version), sensor: new FuzzConnection(url, devices.sensor, version) };
    const outcomes = new Map<string, number>();
    const problems = new Map<string, number>();
    const topics = new Map<string, number>();
    const started = now();
    const share = version === 4 ? Math.ceil(cases / 2) : Math.floor(cases / 2);
    try {
      for (let sent = 0; sent < share; sent += MQTT_ROUND) {
        await Promise.all(Array.from({ length: Math.min(MQTT_ROUND, share - sent) }, async () => {
          const c = fuzz.mqttCase();
          const family = c.topic.replace(/\/(request|response)\/.*$/, '/$1/{id}');
          count(topics, family);
          if (WILDCARD.test(c.topic)) {
            // A topic name with a wildcard is a protocol error the server must answer by closing the connection
            // (MQTT 3.3.2): sent on a connection of its own, so that it does not take the others' messages with it.
            const alone = new FuzzConnection(url, c.device === 'radar' ? devices.radar : devices.sensor, version);
            const outcome = await alone.publish(c.topic, c.payload, 15_000);
            await alone.end();
            count(outcomes, outcome === 'closed' ? 'closed: wildcard in the topic name' : `${outcome} (wildcard in the topic name)`);
            if (outcome !== 'closed') count(problems, `${family} ${outcome} (a wildcard topic name was not refused)`);
            return;
          }
          const outcome = await connections[c.device === 'radar' ? 'radar' : 'sensor'].publish(c.topic, c.payload, 15_000);
          count(outcomes, outcome);
          // MQTT 5 devices are told of a refusal on the PUBACK (0x87); on 3.1.1 every message is acknowledged.
          if (outcome === 'closed' || outcome === 'no answer' || (version === 4 && outcome === 'refused')) count(problems, `${family} ${outcome}`);
        }));
      }
    } finally {
      await connections.radar.end();
      await connections.sensor.end();
    }
    const label = version === 4 ? 'MQTT 3.1.1' : 'MQTT 5';
    report.add({ metric: `${label} messages sent`, value: share, note: `${describeCounts(topics)}; ${round((now() - started) / 1000, 0)} s` });
    report.add({ metric: `${label} outcomes`, value: describeCounts(outcomes) });
    const closed = connections.radar.reconnects + connections.sensor.reconnects;
    const failed = [...problems.values()].reduce((a, b) => a + b, 0);
    report.add({ metric: `${label} not acknowledged / connections closed by the server`, value: `${failed} / ${closed}`, note: failed ? describeCounts(problems) : 'none' });
  }
}

export const fuzzBench: Benchmark = {
  name: 'fuzz',
  description: '10,000 hostile bodies (FUZZ_HTTP + FUZZ_MQTT) against every device endpoint and MQTT topic of the built server',
  needsBuild: true,
  async run(report) {
    const s = settings();
    const tmp = makeTempDir('vigil-bench-fuzz-');
    const dataDir = path.join(tmp, 'data');
    fs.mkdirSync(dataDir, { mode: 0o755 });
    watchPostgresOf(dataDir);
    const [port, mqttPort] = [await freePort(), await freePort()];
    const vigil = startVigil('vigil (fuzz)', dataDir, port, { logLevel: 'error', env: { MQTT_PORT: String(mqttPort) } });
    try {
      await waitReady(vigil, now());
      const user = await setUpAndSignIn(vigil);
      const device = async (kind: string) => createDevice(vigil, user, { kind, name: `Fuzz ${kind}`, serial: `FUZZ-${kind}`, ...(kind === 'speed_radar' && { speedLimit: 30 }) });
      const [radar, sensor, fridge] = [await device('speed_radar'), await device('sensor'), await device('refrigeration')];
      const uploaded = await api(vigil, 'POST', '/api/ingest/v1/events', { events: [{ timestamp: '2026-01-02T03:04:05', speed: 42, speed_limit: 25, has_photo: true }] }, { 'x-api-key': radar.apiKey });
      const eventId = ((await uploaded.json()) as { created_events: { event_id: string }[] }).created_events[0]!.event_id;
      const devices: FuzzDevices = { radar: radar.apiKey, sensor: sensor.apiKey, fridge: fridge.apiKey, fridgeSerial: 'FUZZ-refrigeration', eventId };
      const fuzz = new DeviceFuzz(new Rng(s.seed), devices);
      report.log(`seed ${s.seed}: ${s.http} HTTP bodies, ${s.mqtt} MQTT publishes`);
      await fuzzHttp(report, vigil, fuzz, s.http);
      await fuzzMqtt(report, mqttPort, fuzz, devices, s.mqtt);
      const ready = await tryFetch(`${vigil.base}/ready`, {}, 10_000);
      report.add({ metric: 'server afterwards', value: vigil.child.exited ? `exited (${JSON.stringify(vigil.child.exited)})` : `running, /ready ${ready?.status ?? 'no answer'}` });
    } finally {
      // The server logs every 5xx at level error: those lines are the problems stopVigil lists.
      await stopVigil(vigil, report, 'fuzz');
    }
  },
};
