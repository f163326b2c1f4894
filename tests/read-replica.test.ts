import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { ConfigError, loadConfig } from '../src/server/core/config.js';
import { READ_PRIMARY_COOKIE } from '../src/server/core/db/read-your-writes.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { eventually, freePort } from './helpers/process.js';

/**
 * DATABASE_REPLICA_URL against a real PostgreSQL 15 primary and a standby made from it with
 * `pg_basebackup -R`, both started here (whatever server the rest of the suite runs on). Replay is
 * paused on the standby to make it visibly stale: statistics and lists of a session that did not
 * write show the stale figures, the session that wrote sees its own change, and beyond the lag
 * threshold (or with the replica gone) every read comes from the primary.
 */
const BIN = '/usr/lib/postgresql/15/bin';
const run = promisify(execFile);

/** PostgreSQL refuses to run as root: then its tools run as the "postgres" system user, as the bundled server does. */
function pgTool(tool: string, args: string[]) {
  const program = path.join(BIN, tool);
  return process.getuid?.() === 0 ? run('runuser', ['-u', 'postgres', '--', program, ...args]) : run(program, args);
}

class Cluster {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-replica-'));
  primaryPort = 0;
  replicaPort = 0;
  private started: string[] = [];

  url(port: number, database = 'vigil') {
    return `postgres://postgres@127.0.0.1:${port}/${database}`;
  }

  private async startServer(name: string, port: number) {
    // Loopback only; fsync off: a throwaway cluster.
    const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir} -c fsync=off -c max_wal_senders=4`;
    await pgTool('pg_ctl', ['-D', path.join(this.dir, name), '-o', options, '-l', path.join(this.dir, `${name}.log`), '-w', 'start']);
    this.started.push(name);
  }

  async start() {
    if (process.getuid?.() === 0) {
      fs.chmodSync(this.dir, 0o755);
      fs.chownSync(this.dir, Number((await run('id', ['-u', 'postgres'])).stdout.trim()), -1);
    }
    [this.primaryPort, this.replicaPort] = [await freePort(), await freePort()];
    // The default pg_hba.conf of --auth=trust lets loopback clients in, replication connections included.
    await pgTool('initdb', ['-D', path.join(this.dir, 'primary'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    await this.startServer('primary', this.primaryPort);
    await pgTool('pg_basebackup', ['-h', '127.0.0.1', '-p', String(this.primaryPort), '-U', 'postgres', '-D', path.join(this.dir, 'replica'), '-R', '-X', 'stream', '-c', 'fast', '--no-sync']);
    await this.startServer('replica', this.replicaPort);
    const admin = new pg.Client({ connectionString: this.url(this.primaryPort, 'postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE vigil');
    await admin.end();
  }

  async stop(name: 'primary' | 'replica') {
    if (!this.started.includes(name)) return;
    this.started = this.started.filter((n) => n !== name);
    await pgTool('pg_ctl', ['-D', path.join(this.dir, name), '-m', 'immediate', '-w', 'stop']);
  }

  async destroy() {
    await this.stop('replica').catch(() => undefined);
    await this.stop('primary').catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('read replica', { skip: !fs.existsSync(path.join(BIN, 'pg_basebackup')) && `no PostgreSQL 15 in ${BIN}` }, () => {
  const cluster = new Cluster();
  let app: TestApp;
  let owner: SignedIn;
  let viewer: SignedIn;
  let standby: pg.Client;
  let radar: { id: string; key: string };
  let sent = 0;

  const ingest = async (count: number) => {
    const events = Array.from({ length: count }, () => {
      sent += 1;
      return { client_ref: `e${sent}`, ts: new Date(Date.UTC(2026, 0, 5, 12, sent)).toISOString(), kind: 'speed', speed: 30 + sent, speed_limit: 30 };
    });
    const response = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': radar.key }, payload: { events } });
    assert.equal(response.statusCode, 200, response.body);
    await app.settleRollups();
  };
  const statistics = `/api/v1/traffic/statistics?deviceId=${'{id}'}&from=2026-01-05&to=2026-01-06`;
  const countSeenBy = async (who: SignedIn, headers: Record<string, string> = {}) => {
    const response = await who.client.request('GET', statistics.replace('{id}', radar.id), undefined, headers);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.summary.count as number;
  };
  const listedBy = async (who: SignedIn) => {
    const response = await who.client.get(`/api/v1/events?deviceId=${radar.id}&limit=100`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.items as { id: number; acknowledgement: unknown }[];
  };
  const replica = () => app.runtime.ctx.replica;
  const metric = async (name: string) => {
    const text = (await app.runtime.app.inject({ method: 'GET', url: '/metrics' })).body;
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    assert.ok(line, `${name} is on /metrics`);
    return Number(line.split(' ').pop());
  };
  const replicaReads = () => metric('vigil_database_replica_reads_total{target="replica"}');

  before(async () => {
    await cluster.start();
    app = await startTestApp({
      databaseUrl: cluster.url(cluster.primaryPort),
      databaseReplicaUrl: cluster.url(cluster.replicaPort),
      // Large while replay is paused on purpose; the fallback test lowers it as an operator would.
      databaseReplicaMaxLagSeconds: 3600,
      metricsPublic: true,
    });
    owner = await app.owner();
    viewer = await app.member(owner, 'viewer');
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Radar', serial: 'RR-1', speedLimit: 30 });
    assert.equal(created.status, 201);
    radar = { id: created.body.device.id, key: created.body.apiKey };
    standby = new pg.Client({ connectionString: cluster.url(cluster.replicaPort) });
    await standby.connect();
  });
  after(async () => {
    await standby?.end().catch(() => undefined);
    await app?.close();
    await cluster.destroy();
  });

  it('reads statistics and lists from the replica, and a session\'s own writes from the primary', async () => {
    await ingest(5);
    // Caught up with everything the primary had at the check, the replica serves reads.
    assert.ok(await eventually(async () => (await replica().check()).lagSeconds === 0, 20_000), 'the replica catches up');
    assert.equal(replica().state().inUse, true);
    assert.equal(await countSeenBy(viewer), 5);

    await standby.query('SELECT pg_wal_replay_pause()');
    assert.ok(await eventually(async () => (await standby.query('SELECT pg_get_wal_replay_pause_state() AS s')).rows[0].s === 'paused', 10_000));
    await ingest(3);
    const before = await replicaReads();
    // Stale: the statistics and the event list of a session that wrote nothing come from the paused replica.
    assert.equal(await countSeenBy(viewer), 5);
    assert.equal((await listedBy(viewer)).length, 5);
    assert.ok(await replicaReads() > before, 'those statements were answered by the replica');

    // The owner created the radar (a write): their pages read the primary and show everything.
    assert.equal(await countSeenBy(owner), 8);
    const newest = (await listedBy(owner))[0]!;
    const acknowledged = await owner.client.post(`/api/v1/events/${newest.id}/ack`, { comment: 'seen to' });
    assert.equal(acknowledged.status, 200, JSON.stringify(acknowledged.body));
    // The response marks the browser too, for a next request that reaches another server process.
    const cookies = ([] as string[]).concat((acknowledged.headers['set-cookie'] as string | string[] | undefined) ?? []);
    assert.ok(cookies.some((c) => c.startsWith(`${READ_PRIMARY_COOKIE}=1;`) && c.includes('Max-Age=3602')), cookies.join(' | '));
    // The page right after the owner's change shows it; the viewer's list, from the replica, does not yet.
    const ownersList = await listedBy(owner);
    assert.equal(ownersList.length, 8);
    assert.ok(ownersList.find((e) => e.id === newest.id)!.acknowledgement, 'the owner sees their acknowledgement');
    assert.equal((await listedBy(viewer)).find((e) => e.id === newest.id), undefined);
    // A request carrying the cookie reads the primary whatever session it belongs to.
    assert.equal(await countSeenBy(viewer, { cookie: `${viewer.client.cookie}; ${READ_PRIMARY_COOKIE}=1` }), 8);
  });

  it('shows the lag on /metrics and reads from the primary beyond the threshold', async () => {
    assert.equal(await metric('vigil_database_replica_in_use'), 1);
    Object.assign(app.runtime.ctx.config, { databaseReplicaMaxLagSeconds: 1 });
    // Replay is still paused while the primary moved on: the lag grows past 1 s.
    assert.ok(await eventually(async () => !(await replica().check()).inUse, 20_000), 'the replica is set aside');
    assert.ok(await metric('vigil_database_replica_lag_seconds') > 1);
    assert.equal(await metric('vigil_database_replica_in_use'), 0);
    assert.equal(await countSeenBy(viewer), 8);
    assert.equal((await listedBy(viewer)).length, 8);

    // Replay resumes: the replica catches up and serves the viewer again, now with the fresh figures.
    await standby.query('SELECT pg_wal_replay_resume()');
    assert.ok(await eventually(async () => (await replica().check()).inUse, 20_000), 'the replica is used again');
    const before = await replicaReads();
    assert.equal(await countSeenBy(viewer), 8);
    assert.ok(await replicaReads() > before);
  });

  it('reads from the primary when the replica is gone', async () => {
    await standby.end();
    await cluster.stop('replica');
    // Before any check notices: the failed connection falls back at once.
    assert.equal(await countSeenBy(viewer), 8);
    const state = await replica().check();
    assert.equal(state.reachable, false);
    assert.equal(state.inUse, false);
    assert.ok(Number.isNaN(await metric('vigil_database_replica_lag_seconds')));
  });

  it('checks the two settings', () => {
    assert.equal(loadConfig({}).databaseReplicaMaxLagSeconds, 10);
    assert.equal(loadConfig({}).databaseReplicaUrl, undefined);
    assert.throws(() => loadConfig({ DATABASE_REPLICA_URL: 'mysql://db/vigil' }), (e: Error) => e instanceof ConfigError && /DATABASE_REPLICA_URL must use postgres:/.test(e.message));
    assert.throws(() => loadConfig({ DATABASE_REPLICA_MAX_LAG_SECONDS: '0' }), (e: Error) => e instanceof ConfigError && /DATABASE_REPLICA_MAX_LAG_SECONDS must be an integer between 1 and 3600/.test(e.message));
  });
});
