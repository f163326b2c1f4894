import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliProcess, freePort, isAlive } from './helpers/process.js';

/**
 * The README's first run: `vigil serve`, the setup link, then `vigil demo` while the server runs. The
 * administrator who ran setup finds the demo in their list.
 */
describe('first run with the demo', () => {
  let dataDir: string;
  let base: string;
  let server: CliProcess;
  const admin = { email: 'ada@city.example', password: 'a long enough secret' };

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-first-run-'));
    // As root the bundled PostgreSQL runs as the "postgres" user, who must be able to enter the folder.
    fs.chmodSync(dataDir, 0o755);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new CliProcess(['serve'], { DATA_DIR: dataDir, PORT: String(port), MQTT_PORT: String(await freePort()), HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
    const [, token] = await server.waitForOutput(/\/setup\?token=(\S+)/, 90_000);
    const setup = await call('POST', '/api/v1/setup', { token: decodeURIComponent(token!), organizationName: 'City', name: 'Ada', ...admin });
    assert.equal(setup.status, 201, JSON.stringify(setup.body));
  });
  after(async () => {
    server.child.kill('SIGTERM');
    if (!(await server.exitWithin(20_000))) server.killGroup();
    server.killGroup();
    const postmaster = Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), { encoding: 'utf8', flag: 'a+' }).split('\n')[0]);
    if (postmaster > 0 && isAlive(postmaster)) process.kill(postmaster, 'SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  let cookie = '';
  let csrf = '';
  async function call(method: string, url: string, body?: unknown) {
    const response = await fetch(`${base}${url}`, {
      method,
      headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...(cookie && { cookie, 'x-csrf-token': csrf }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const session = response.headers.getSetCookie().find((c) => c.startsWith('vigil_session='));
    if (session) cookie = session.split(';')[0]!;
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  it('`vigil demo` runs against the running server and makes the setup\'s administrator an owner of the demo', { timeout: 120_000 }, async () => {
    const demo = new CliProcess(['demo', '--radars', '1', '--fridges', '1', '--cameras', '0', '--days', '0', '--name', 'Demo City', '--keys', path.join(dataDir, 'keys.json')], {
      DATA_DIR: dataDir, VIGIL_PASSWORD: 'demo owner password', LOG_LEVEL: 'warn',
    });
    assert.equal(await demo.exitWithin(90_000), true, demo.output());
    assert.equal(demo.exitCode, 0, demo.output());
    assert.match(demo.stdout, /a Vigil server is running on .*: the demo goes into its database/);
    assert.match(demo.stdout, /or as a platform administrator \(1 added as owners\)/);
    assert.equal((await call('GET', '/ready')).status, 200, 'the server is unaffected');

    const login = await call('POST', '/api/v1/auth/login', admin);
    assert.equal(login.status, 200);
    csrf = login.body.csrfToken;
    const demoOrg = login.body.organizations.find((o: { name: string }) => o.name === 'Demo City');
    assert.equal(demoOrg?.role, 'owner', JSON.stringify(login.body.organizations));
    assert.equal((await call('POST', '/api/v1/auth/switch-organization', { organizationId: demoOrg.id })).status, 204);
    const devices = await call('GET', '/api/v1/devices');
    assert.equal(devices.body.items.length, 2, 'the server sees the demo\'s radar and refrigeration unit');
  });
});
