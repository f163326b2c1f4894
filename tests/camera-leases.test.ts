import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { CameraLeaseManager, type CameraRunner } from '../src/server/cameras/leases/manager.js';
import { openDatabase } from '../src/server/core/db/database.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { CliProcess, eventually } from './helpers/process.js';

/**
 * Who decodes what, across every runner of the test: a camera started while another runner decodes it
 * is a violation. The decoder has its own tests; this one stands in for it and records.
 */
class DecodingLedger {
  readonly decodedBy = new Map<string, string>();
  readonly violations: string[] = [];
}

class RecordingRunner implements CameraRunner {
  readonly running = new Set<string>();
  readonly log: string[] = [];
  constructor(readonly name: string, private readonly ledger: DecodingLedger) {}

  start(cameraId: string): void {
    const other = this.ledger.decodedBy.get(cameraId);
    if (other !== undefined && other !== this.name) this.ledger.violations.push(`${cameraId} started by ${this.name} while ${other} decodes it`);
    this.ledger.decodedBy.set(cameraId, this.name);
    this.running.add(cameraId);
    this.log.push(`start ${cameraId}`);
  }

  stop(cameraId: string): void {
    if (this.ledger.decodedBy.get(cameraId) === this.name) this.ledger.decodedBy.delete(cameraId);
    this.running.delete(cameraId);
    this.log.push(`stop ${cameraId}`);
  }

  async stopAll(): Promise<void> {
    for (const id of [...this.running]) this.stop(id);
  }

  /** The process died: its decoders are gone with it, nothing was given back. */
  die(): void {
    for (const id of this.running) if (this.ledger.decodedBy.get(id) === this.name) this.ledger.decodedBy.delete(id);
    this.running.clear();
  }
}

const TIMING = { ttlMs: 3000, heartbeatMs: 1000 };
const silent = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

describe('camera leases', () => {
  let app: TestApp;
  let owner: SignedIn;
  let cameraIds: string[] = [];
  const ledger = new DecodingLedger();
  const managers: CameraLeaseManager[] = [];

  const manager = (name: string, options: Partial<typeof TIMING> = TIMING, db = app.runtime.ctx.db) => {
    const runner = new RecordingRunner(name, ledger);
    const registry = new Registry();
    const leases = new CameraLeaseManager({ db, logger: silent, registry, bus: app.runtime.ctx.bus }, runner, { workerId: `test-host:${name}`, ...options });
    managers.push(leases);
    return { leases, runner, registry };
  };
  type Worker = ReturnType<typeof manager>;
  const registerCamera = async (n: number) =>
    (await owner.client.post('/api/v1/devices', { kind: 'camera', name: `Camera ${n}`, serial: `LEASE-${n}` })).body.device.id as string;
  const sizes = (...workers: Worker[]) => workers.map((w) => w.runner.running.size).sort((a, b) => a - b);
  const covered = (...workers: Worker[]) => {
    const all = workers.flatMap((w) => [...w.runner.running]);
    return all.length === cameraIds.length && new Set(all).size === cameraIds.length && cameraIds.every((id) => all.includes(id));
  };
  const leaseOwners = async () => (await app.runtime.ctx.pool.query<{ camera_id: string; owner: string }>('SELECT camera_id, owner FROM camera_leases WHERE expires_at > now()')).rows;

  before(async () => {
    app = await startTestApp();
    owner = await app.owner('Site safety');
    for (let n = 1; n <= 7; n++) cameraIds.push(await registerCamera(n));
  });
  after(async () => {
    for (const m of managers) m.halt();
    await app.close();
  });

  it('two workers share the cameras fairly, every camera decoded by exactly one of them at every round', async () => {
    const a = manager('a');
    const b = manager('b');
    for (let round = 0; round < 4; round++) {
      for (const worker of [a, b]) {
        await worker.leases.tick();
        assert.deepEqual(ledger.violations, []);
        const both = [...a.runner.running].filter((id) => b.runner.running.has(id));
        assert.deepEqual(both, [], 'no camera held by both');
      }
      // A camera given back is taken by the other worker in the same round.
      assert.ok(covered(a, b), `round ${round}: every camera decoded (${sizes(a, b)})`);
    }
    assert.deepEqual(sizes(a, b), [3, 4]);
    assert.match(await a.registry.metrics(), /^vigil_camera_leases_held 4$/m);
    assert.match(await b.registry.metrics(), /^vigil_camera_leases_held 3$/m);
    await a.leases.stop();
    await b.leases.stop();
    assert.deepEqual(await leaseOwners(), [], 'a graceful stop gives every lease back at once');
    assert.equal(a.runner.running.size + b.runner.running.size, 0);
  });

  describe('running workers', () => {
    let a: Worker;
    let b: Worker;
    let c: Worker;

    it('start sharing, and admins see which worker decodes a camera', async () => {
      a = manager('a');
      b = manager('b');
      a.leases.start();
      b.leases.start();
      assert.ok(await eventually(() => covered(a, b) && sizes(a, b).join() === '3,4', 20_000), `shared: ${sizes(a, b)}`);
      const held = [...a.runner.running][0]!;
      const seen = await owner.client.get(`/api/v1/cameras/${held}`);
      assert.equal(seen.body.worker.id, 'test-host:a');
      assert.ok(Date.parse(seen.body.worker.since) <= Date.now());
      const viewer = await app.member(owner, 'viewer');
      const forViewer = await viewer.client.get(`/api/v1/cameras/${held}`);
      assert.equal(forViewer.status, 200);
      assert.equal('worker' in forViewer.body, false, 'only admins see the worker');
      assert.ok((await owner.client.get('/api/v1/cameras')).body.items.every((camera: { worker: unknown }) => camera.worker !== undefined));
    });

    it('a third worker takes a fair share from the others', async () => {
      c = manager('c');
      c.leases.start();
      assert.ok(await eventually(() => covered(a, b, c) && sizes(a, b, c).join() === '2,2,3', 20_000), `shared: ${sizes(a, b, c)}`);
      assert.deepEqual(ledger.violations, []);
    });

    it('a settings change restarts the camera on its owner; a deleted camera is stopped', async () => {
      const target = [...b.runner.running][0]!;
      const before = b.runner.log.length;
      assert.equal((await owner.client.patch(`/api/v1/cameras/${target}`, { zone: 'Scaffold east' })).status, 200);
      assert.ok(await eventually(() => b.runner.log.slice(before).join() === `stop ${target},start ${target}`, 10_000), b.runner.log.slice(before).join());

      const doomed = [...c.runner.running][0]!;
      assert.equal((await owner.client.delete(`/api/v1/devices/${doomed}`)).status, 204);
      cameraIds = cameraIds.filter((id) => id !== doomed);
      assert.ok(await eventually(() => !c.runner.running.has(doomed), 10_000), 'the deleted camera stopped');
      assert.ok(c.runner.log.includes(`stop ${doomed}`));
      assert.ok(await eventually(() => covered(a, b, c) && sizes(a, b, c).join() === '2,2,2', 10_000), `shared: ${sizes(a, b, c)}`);
    });

    it('a lease taken away underneath a worker stops its camera there', async () => {
      const stolen = [...a.runner.running][0]!;
      await app.runtime.ctx.pool.query(`UPDATE camera_leases SET owner = 'test-host:thief', expires_at = now() + interval '1 hour' WHERE camera_id = $1`, [stolen]);
      assert.ok(await eventually(() => !a.runner.running.has(stolen), 10_000), 'the robbed worker stopped the camera');
      assert.equal(b.runner.running.has(stolen) || c.runner.running.has(stolen), false, 'nobody else decodes a camera leased to another');
      await app.runtime.ctx.pool.query(`UPDATE camera_leases SET expires_at = now() - interval '1 second' WHERE camera_id = $1`, [stolen]);
      assert.ok(await eventually(() => covered(a, b, c), 10_000), 'the expired lease was taken again');
    });

    it('a worker that dies (no release) loses its cameras to the others within the lease time', async () => {
      const orphans = [...a.runner.running];
      const diedAt = Date.now();
      a.leases.halt();
      a.runner.die();
      assert.ok(await eventually(() => covered(b, c), 30_000), `taken over: ${sizes(b, c)}`);
      const takeoverMs = Date.now() - diedAt;
      console.log(`# ${orphans.length} cameras of a dead worker taken over in ${takeoverMs} ms (lease ${TIMING.ttlMs} ms, heartbeat ${TIMING.heartbeatMs} ms)`);
      assert.ok(takeoverMs < 30_000);
      assert.deepEqual(sizes(b, c), [3, 3]);
      assert.deepEqual(ledger.violations, []);
      await b.leases.stop();
      await c.leases.stop();
    });
  });

  it('a worker that cannot renew (database gone) stops its cameras before their leases run out', async () => {
    await app.runtime.ctx.pool.query('DELETE FROM camera_workers');
    const database = openDatabase(app.databaseUrl, 2);
    const d = manager('d', TIMING, database.db);
    await d.leases.tick();
    assert.equal(d.runner.running.size, cameraIds.length);
    d.leases.start();
    await database.close();
    assert.ok(await eventually(() => d.runner.running.size === 0, 20_000), 'stopped');
    const stoppedBy = Date.now();
    const { rows } = await app.runtime.ctx.pool.query<{ expires_at: Date }>(`SELECT min(expires_at) AS expires_at FROM camera_leases WHERE owner = 'test-host:d'`);
    assert.ok(stoppedBy < rows[0]!.expires_at.getTime(), `stopped ${stoppedBy - rows[0]!.expires_at.getTime()} ms after a lease ran out`);
    assert.match(await d.registry.metrics(), /^vigil_camera_leases_lost_total 6$/m);
    d.leases.halt();
  });

  it('two `vigil worker` processes share the cameras; after kill -9 of one the other has them all within 30 s', { timeout: 120_000 }, async () => {
    await app.runtime.ctx.pool.query('DELETE FROM camera_leases');
    await app.runtime.ctx.pool.query('DELETE FROM camera_workers');
    const env = (dataDir: string) => ({
      DATABASE_URL: app.databaseUrl, DATA_DIR: dataDir, LOG_LEVEL: 'info', CAMERA_LEASE_SECONDS: '3', CAMERA_LEASE_HEARTBEAT_SECONDS: '1',
      // The deployment's key, so the workers' decoders can open sealed credentials.
      ENCRYPTION_KEY: app.runtime.ctx.secrets.encryptionKey,
    });
    const dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-camera-worker-')));
    const workers = dirs.map((dir) => new CliProcess(['worker'], env(dir)));
    try {
      await Promise.all(workers.map((w) => w.waitForOutput(/worker started/, 60_000)));
      const [first, second] = workers.map((w) => `${os.hostname()}:${w.pid}`);
      const owners = async () => {
        const counts = new Map<string, number>();
        for (const lease of await leaseOwners()) counts.set(lease.owner, (counts.get(lease.owner) ?? 0) + 1);
        return counts;
      };
      assert.ok(await eventually(async () => {
        const counts = await owners();
        return counts.get(first!) !== undefined && counts.get(second!) !== undefined && counts.get(first!)! + counts.get(second!)! === cameraIds.length;
      }, 30_000, 200), `shared: ${JSON.stringify([...(await owners())])}\n${workers.map((w) => w.output()).join('\n')}`);

      const killedAt = Date.now();
      workers[0]!.killGroup('SIGKILL');
      await workers[0]!.exitWithin(10_000);
      assert.ok(await eventually(async () => (await owners()).get(second!) === cameraIds.length, 30_000, 200), `after kill -9: ${JSON.stringify([...(await owners())])}`);
      const takeoverMs = Date.now() - killedAt;
      console.log(`# vigil worker killed with -9: its cameras taken over in ${takeoverMs} ms (lease 3 s, heartbeat 1 s)`);
      assert.ok(takeoverMs < 30_000);

      workers[1]!.killGroup('SIGTERM');
      assert.ok(await workers[1]!.exitWithin(20_000), workers[1]!.output());
      const left = await app.runtime.ctx.pool.query('SELECT * FROM camera_leases');
      assert.deepEqual(left.rows, [], 'the stopped worker gave its leases back at once');
    } finally {
      for (const w of workers) w.killGroup();
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
