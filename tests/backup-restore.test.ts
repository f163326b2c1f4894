/**
 * scripts/backup.sh and scripts/restore.sh on a real Vigil: data made through the API (an organization, a
 * radar, an event with its photo) is backed up, the restore goes into a new database and a new DATA_DIR, and
 * a Vigil started there has the data and serves the same photo.
 *
 * On the PostgreSQL service (TEST_DATABASE_URL): pg_dump while Vigil runs, pg_restore into a new database.
 * On the bundled PostgreSQL (18, newer than Debian 12's pg_dump 15): the documented one-machine procedure,
 * DATA_DIR archived while Vigil is stopped.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import sharp from 'sharp';
import { createTestDatabase, dropTestDatabase, uniqueEmail } from './helpers/app.js';
import { CliProcess, freePort, REPO_ROOT } from './helpers/process.js';

const EXTERNAL = Boolean(process.env.TEST_DATABASE_URL);
const PASSWORD = 'backup restore password';

function script(name: 'backup' | 'restore', folder: string, env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('bash', [path.join(REPO_ROOT, 'scripts', `${name}.sh`), folder], { env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

function folder(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  // The bundled PostgreSQL runs as the `postgres` user when the suite runs as root: it must reach DATA_DIR.
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** `vigil serve` from the sources on `env`, with a signed-in browser-like client. */
async function serve(env: Record<string, string>) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = new CliProcess(['serve'], { ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
  await server.waitForOutput(/Vigil is running at/, 60_000);
  return { server, base };
}

async function signIn(base: string, email: string) {
  const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }) });
  assert.equal(login.status, 200, await login.clone().text());
  const cookie = login.headers.getSetCookie().find((c) => c.startsWith('vigil_session='))!.split(';')[0]!;
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  return (method: string, url: string, body?: unknown) =>
    fetch(`${base}${url}`, {
      method,
      headers: { cookie, 'x-csrf-token': csrfToken, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}

async function photoOf(call: Awaited<ReturnType<typeof signIn>>, eventId: string): Promise<Buffer> {
  const response = await call('GET', `/api/v1/events/${eventId}/photo`);
  assert.equal(response.status, 200);
  return Buffer.from(await response.arrayBuffer());
}

describe(`backup and restore (${EXTERNAL ? 'pg_dump of the PostgreSQL service' : 'DATA_DIR of the bundled PostgreSQL'})`, { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  const databases: string[] = [];
  const processes: CliProcess[] = [];
  const email = uniqueEmail('backup');
  const deviceName = `Backed-up radar ${randomBytes(3).toString('hex')}`;
  let sourceEnv: Record<string, string>;
  let backup: string;
  let eventId: string;
  let original: Buffer;

  before(async () => {
    const dataDir = folder('vigil-backup-source-');
    dirs.push(dataDir);
    // A deployment on an external database sets its keys explicitly: a restore elsewhere keeps them.
    const keys = { SECRET_KEY: randomBytes(32).toString('hex'), ENCRYPTION_KEY: randomBytes(32).toString('hex') };
    sourceEnv = { DATA_DIR: dataDir, ...(EXTERNAL && { DATABASE_URL: await createTestDatabase(), ...keys }) };
    if (sourceEnv.DATABASE_URL) databases.push(sourceEnv.DATABASE_URL);

    const create = new CliProcess(['user', 'create', '--email', email, '--name', 'Bea Backup', '--org', 'Backed-up Org'], { ...sourceEnv, VIGIL_PASSWORD: PASSWORD, LOG_LEVEL: 'warn' });
    processes.push(create);
    await create.exited;
    assert.equal(create.exitCode, 0, create.output());

    const { server, base } = await serve(sourceEnv);
    processes.push(server);
    const call = await signIn(base, email);
    const created = await call('POST', '/api/v1/devices', { kind: 'speed_radar', name: deviceName, serial: `BK-${randomBytes(3).toString('hex')}`, speedLimit: 25 });
    assert.equal(created.status, 201);
    const key = ((await created.json()) as { apiKey: string }).apiKey;
    const device = (url: string, body: unknown, method = 'POST') =>
      fetch(`${base}${url}`, { method, headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const upload = await device('/api/ingest/v1/events', { events: [{ timestamp: '2026-06-01T07:30:00', speed: 41, speed_limit: 25, is_speeding: 1, has_photo: true }] });
    eventId = ((await upload.json()) as { created_events: { event_id: string }[] }).created_events[0]!.event_id;
    const issued = (await (await device(`/api/ingest/v1/events/${eventId}/photo/url`, {})).json()) as { upload_url: string; photo_key: string };
    const jpeg = await sharp({ create: { width: 320, height: 240, channels: 3, background: 'orange' } }).jpeg().toBuffer();
    assert.equal((await fetch(`${base}${new URL(issued.upload_url).pathname}`, { method: 'PUT', headers: { 'content-type': 'image/jpeg' }, body: jpeg })).status, 200);
    assert.equal((await device(`/api/ingest/v1/events/${eventId}/photo/confirm?photo_key=${encodeURIComponent(issued.photo_key)}`, {})).status, 200);
    original = await photoOf(call, eventId);

    backup = path.join(folder('vigil-backup-'), 'backup');
    dirs.push(path.dirname(backup));
    if (!EXTERNAL) {
      const refused = await script('backup', backup, { DATA_DIR: dataDir });
      assert.equal(refused.code, 3, `a running bundled database is not copied: ${refused.output}`);
      server.child.kill('SIGTERM');
      await server.exited;
      assert.equal(server.exitCode, 0, server.output());
    }
    const made = await script('backup', backup, sourceEnv);
    assert.equal(made.code, 0, made.output);
    if (EXTERNAL) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  after(async () => {
    for (const process of processes) process.killGroup();
    await Promise.all(processes.map((p) => p.exited));
    for (const url of databases) await dropTestDatabase(url);
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('holds the database and the photo', () => {
    const info = fs.readFileSync(path.join(backup, 'backup.info'), 'utf8');
    assert.match(info, EXTERNAL ? /^kind=pg_dump$/m : /^kind=data-dir$/m);
    assert.ok(fs.existsSync(path.join(backup, EXTERNAL ? 'database.dump' : 'data-dir.tar.gz')));
    if (EXTERNAL) assert.ok(fs.readdirSync(path.join(backup, 'media'), { recursive: true }).length > 0, 'the media folder');
  });

  it('refuses to restore over existing data', async () => {
    const refused = await script('restore', backup, sourceEnv);
    assert.equal(refused.code, 3, refused.output);
    assert.match(refused.output, EXTERNAL ? /already has \d+ tables/ : /is not empty/);
  });

  it('restores into a new database and DATA_DIR, where Vigil has the data and the same photo', async () => {
    const dataDir = path.join(folder('vigil-restored-'), 'data');
    dirs.push(path.dirname(dataDir));
    const restoredEnv: Record<string, string> = { DATA_DIR: dataDir };
    if (EXTERNAL) {
      // A new, empty database next to the test databases, as `createdb` makes it.
      const adminUrl = new URL(process.env.VIGIL_TEST_ADMIN_URL!);
      const name = `vigil_restored_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: adminUrl.toString() });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      adminUrl.pathname = `/${name}`;
      databases.push(adminUrl.toString());
      Object.assign(restoredEnv, { DATABASE_URL: adminUrl.toString(), SECRET_KEY: sourceEnv.SECRET_KEY!, ENCRYPTION_KEY: sourceEnv.ENCRYPTION_KEY! });
    }
    const restored = await script('restore', backup, restoredEnv);
    assert.equal(restored.code, 0, restored.output);

    const { server, base } = await serve(restoredEnv);
    processes.push(server);
    const call = await signIn(base, email);
    const devices = (await (await call('GET', `/api/v1/devices?search=${encodeURIComponent(deviceName)}`)).json()) as { items: { name: string }[] };
    assert.deepEqual(devices.items.map((d) => d.name), [deviceName]);
    const event = (await (await call('GET', `/api/v1/events/${eventId}`)).json()) as { speed: number };
    assert.equal(event.speed, 41);
    assert.ok((await photoOf(call, eventId)).equals(original), 'the same photo');
  });
});
