import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { after, afterEach, describe, it } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { openDatabase } from '../src/server/core/db/database.js';
import { migrate, MIGRATIONS_DIR, readMigrations, type Migration } from '../src/server/core/db/migrate.js';
import { createPartition } from '../src/server/core/db/partitions.js';
import { insertEvents, insertTelemetry } from '../src/server/ingest/store.js';

const logger = pino({ level: 'silent' });

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite with \`npm test\``);
  return value;
}

/** A brand-new, EMPTY database (not the migrated template); named so `npm test` removes leftovers. */
async function emptyDatabase(): Promise<string> {
  const adminUrl = requireEnv('VIGIL_TEST_ADMIN_URL');
  const name = `vigil_t_${requireEnv('VIGIL_TEST_RUN')}_empty_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(url: string): Promise<void> {
  const admin = new pg.Client({ connectionString: requireEnv('VIGIL_TEST_ADMIN_URL') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

describe('database migrations', () => {
  const pools: pg.Pool[] = [];
  const databases: string[] = [];
  async function freshPool(): Promise<pg.Pool> {
    const url = await emptyDatabase();
    databases.push(url);
    return pool(url);
  }
  function pool(url: string): pg.Pool {
    const created = new pg.Pool({ connectionString: url, max: 2 });
    pools.push(created);
    return created;
  }
  afterEach(async () => {
    for (const p of pools.splice(0)) await p.end();
  });
  after(async () => {
    for (const url of databases) await dropDatabase(url);
  });

  const recorded = async (p: pg.Pool) =>
    (await p.query<{ version: number; name: string; applied_at: Date }>('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')).rows;
  const tableExists = async (p: pg.Pool, table: string) =>
    (await p.query<{ oid: string | null }>('SELECT to_regclass($1)::text AS oid', [table])).rows[0]!.oid !== null;

  it('finds every migration file, in version order', () => {
    const migrations = readMigrations();
    assert.ok(migrations.length > 0);
    assert.deepEqual(migrations[0]!.version, 1);
    assert.equal(migrations[0]!.name, 'foundation');
    const versions = migrations.map((m) => m.version);
    assert.deepEqual(versions, [...versions].sort((a, b) => a - b));
    assert.equal(new Set(versions).size, versions.length, 'no two files share a version');
    // A misnamed file (say 0004_Add-index.sql) would be skipped without a word: none may exist.
    const sqlFiles = fs.readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
    assert.deepEqual(sqlFiles, migrations.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}.sql`));
  });

  it('applies every migration to an empty database and records each; a second run applies nothing', async () => {
    const db = await freshPool();
    assert.equal(await tableExists(db, 'schema_migrations'), false, 'the database starts empty');
    const all = readMigrations();
    const applied = await migrate(db, logger);
    assert.deepEqual(applied, all.map((m) => m.version));
    const rows = await recorded(db);
    assert.deepEqual(rows.map((r) => [r.version, r.name]), all.map((m) => [m.version, m.name]));
    assert.ok(rows.every((r) => r.applied_at instanceof Date));
    for (const table of ['organizations', 'sites', 'users', 'memberships', 'sessions']) {
      assert.equal(await tableExists(db, table), true, `table ${table} exists`);
    }

    assert.deepEqual(await migrate(db, logger), [], 'nothing left to apply');
    assert.deepEqual(await recorded(db), rows, 'records are unchanged');
  });

  it('a failing migration throws with its name and leaves neither its changes nor its record', async () => {
    const db = await freshPool();
    const broken: Migration = { version: 9999, name: 'broken', sql: 'CREATE TABLE t_ok(id int); SELECT nonsense_fn();' };
    await assert.rejects(migrate(db, logger, [...readMigrations(), broken]), (error: Error) => {
      assert.match(error.message, /migration 9999_broken failed/);
      assert.match(error.message, /nonsense_fn/, 'with PostgreSQL\'s reason');
      return true;
    });
    assert.equal(await tableExists(db, 't_ok'), false, 'the statement before the failure was rolled back');
    const rows = await recorded(db);
    assert.ok(!rows.some((r) => r.version === 9999), 'no record of the failed migration');
    assert.deepEqual(rows.map((r) => r.version), readMigrations().map((m) => m.version), 'the migrations before it stay applied');

    // Once fixed, the next start applies it.
    assert.deepEqual(await migrate(db, logger, [...readMigrations(), { ...broken, sql: 'CREATE TABLE t_ok(id int);' }]), [9999]);
    assert.equal(await tableExists(db, 't_ok'), true);
  });

  it('stops at the failing migration: the later ones are not applied', async () => {
    const db = await freshPool();
    const list: Migration[] = [
      ...readMigrations(),
      { version: 9001, name: 'good_before', sql: 'CREATE TABLE t_before(id int);' },
      { version: 9002, name: 'bad', sql: 'ALTER TABLE no_such_table ADD COLUMN x int;' },
      { version: 9003, name: 'good_after', sql: 'CREATE TABLE t_after(id int);' },
    ];
    await assert.rejects(migrate(db, logger, list), /migration 9002_bad failed/);
    assert.equal(await tableExists(db, 't_before'), true);
    assert.equal(await tableExists(db, 't_after'), false);
    const versions = (await recorded(db)).map((r) => r.version);
    assert.ok(versions.includes(9001) && !versions.includes(9002) && !versions.includes(9003));
  });

  it('two processes starting at once on an empty database apply each migration exactly once', async () => {
    const db = await freshPool();
    const url = databases.at(-1)!;
    const other = pool(url);
    const [a, b] = await Promise.all([migrate(db, logger), migrate(other, logger)]);
    const all = readMigrations().map((m) => m.version);
    assert.deepEqual([...a, ...b].sort((x, y) => x - y), all, 'between them, every migration once');
    assert.ok(a.length === 0 || b.length === 0, 'one process did all the work, the other waited');
    assert.deepEqual((await recorded(db)).map((r) => r.version), all);
  });

  it('0018 migrates a database holding events and telemetry in plain monthly partitions: rows kept, resends still recognised', async () => {
    const db = await freshPool();
    await migrate(db, logger, readMigrations().filter((m) => m.version < 18));
    const org = '11111111-1111-4111-8111-111111111111';
    const device = '22222222-2222-4222-8222-222222222222';
    // As earlier versions created months: plain partitions shared by every organization.
    await db.query(`CREATE TABLE events_y2026m03 PARTITION OF events FOR VALUES FROM ('2026-03-01T00:00:00Z') TO ('2026-04-01T00:00:00Z')`);
    await db.query(`CREATE TABLE telemetry_y2026m03 PARTITION OF telemetry FOR VALUES FROM ('2026-03-01T00:00:00Z') TO ('2026-04-01T00:00:00Z')`);
    await db.query(`INSERT INTO events (org_id, device_id, ts, client_ref, kind, speed) VALUES ($1, $2, '2026-03-05T10:00:00Z', 'a', 'speed', 31)`, [org, device]);
    await db.query(`INSERT INTO telemetry (org_id, device_id, ts, metric, value) VALUES ($1, $2, '2026-03-05T10:00:00Z', 'temperature', 4)`, [org, device]);

    assert.deepEqual(await migrate(db, logger), readMigrations().filter((m) => m.version >= 18).map((m) => m.version));
    const database = openDatabase(databases.at(-1)!, 2);
    try {
      const deviceRef = { orgId: org, deviceId: device, siteId: null };
      const event = (ts: string, clientRef: string) => ({ device: deviceRef, item: { index: 0, ts: new Date(ts), deviceTs: ts, clientRef, kind: 'speed', speed: 31, speedLimit: null, severity: null, attributes: {} } });
      // The old month: the stored event and reading are recognised as resent.
      assert.equal((await insertEvents(database.db, [event('2026-03-05T10:00:00Z', 'a'), event('2026-03-06T10:00:00Z', 'b')], true)).length, 1);
      const reading = { orgId: org, deviceId: device, ts: new Date('2026-03-05T10:00:00Z'), metric: 'temperature', value: 4 };
      assert.equal((await insertTelemetry(database.db, [reading], true)).length, 0);
      // A month created now is laid out by organization, and dedupes the same way.
      await createPartition(database.db, 'events', new Date('2026-04-10T00:00:00Z'));
      assert.equal((await db.query(`SELECT relkind::text FROM pg_class WHERE relname = 'events_y2026m04'`)).rows[0].relkind, 'p');
      assert.equal((await insertEvents(database.db, [event('2026-04-10T00:00:00Z', 'c')])).length, 1);
      assert.equal((await insertEvents(database.db, [event('2026-04-10T00:00:00Z', 'c')], true)).length, 0);
      assert.equal(Number((await db.query('SELECT count(*) AS n FROM events')).rows[0].n), 3);
    } finally {
      await database.close();
    }
  });
  it('0019 turns telemetry batches waiting for the rollups into hourly aggregates, so none is lost on upgrade', async () => {
    const db = await freshPool();
    await migrate(db, logger, readMigrations().filter((m) => m.version < 19));
    const org = '11111111-1111-4111-8111-111111111111';
    const device = '22222222-2222-4222-8222-222222222222';
    await db.query(`INSERT INTO telemetry_rollup_pending (org_id, device_id, ts, metric, value) VALUES
      ($1, $2, ARRAY['2026-03-05T10:00:00Z', '2026-03-05T10:30:00Z', '2026-03-05T11:05:00Z']::timestamptz[], ARRAY['temperature', 'temperature', 'temperature'], ARRAY[4, -2, 7]),
      ($1, $2, ARRAY['2026-03-05T10:10:00Z']::timestamptz[], ARRAY['door'], ARRAY[1])`, [org, device]);
    assert.deepEqual(await migrate(db, logger), readMigrations().filter((m) => m.version >= 19).map((m) => m.version));
    const rows = (await db.query(`SELECT metric, hour, count, sum, min, max FROM telemetry_rollup_pending ORDER BY metric, hour`)).rows;
    assert.deepEqual(rows.map((r) => [r.metric, new Date(r.hour).toISOString(), r.count, r.sum, r.min, r.max]), [
      ['door', '2026-03-05T10:00:00.000Z', 1, 1, 1, 1],
      ['temperature', '2026-03-05T10:00:00.000Z', 2, 2, -2, 4],
      ['temperature', '2026-03-05T11:00:00.000Z', 1, 7, 7, 7],
    ]);
  });
});
