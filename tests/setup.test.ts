import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { testConfig } from '../src/server/core/config.js';
import { startRuntime, type Runtime } from '../src/server/runtime.js';
import { createTestDatabase, dropTestDatabase } from './helpers/app.js';

describe('first-run setup', () => {
  let runtime: Runtime;
  let databaseUrl: string;
  let dataDir: string;
  before(async () => {
    databaseUrl = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-setup-'));
    runtime = await startRuntime(testConfig({ databaseUrl, dataDir }), { logger: pino({ level: 'silent' }) });
  });
  after(async () => {
    await runtime.close();
    await dropTestDatabase(databaseUrl);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const inject = (method: 'GET' | 'POST', url: string, payload?: string | object, headers: Record<string, string> = {}) =>
    runtime.app.inject({ method, url, payload, headers });

  it('the setup page creates the first administrator once, then the link stops working', async () => {
    assert.deepEqual((await inject('GET', '/api/v1/setup')).json(), { required: true });
    const url = await runtime.services.setup.prepare();
    assert.ok(url);
    const token = new URL(url!).searchParams.get('token')!;
    assert.equal((await inject('GET', '/setup?token=wrong-token-value')).statusCode, 403);
    const page = await inject('GET', `/setup?token=${encodeURIComponent(token)}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<form method="post" action="\/setup">/);

    const form = (fields: Record<string, string>) => new URLSearchParams({ token, ...fields }).toString();
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    const weak = await inject('POST', '/setup', form({ organizationName: 'City <Traffic>', name: 'Ada', email: 'ada@city.example', password: 'short' }), headers);
    assert.equal(weak.statusCode, 400);
    assert.match(weak.body, /at least 10 characters/);
    assert.match(weak.body, /City &lt;Traffic&gt;/, 'values are echoed back escaped');

    const done = await inject('POST', '/setup', form({ organizationName: 'City Traffic', name: 'Ada', email: 'ada@city.example', password: 'a long enough secret' }), headers);
    assert.equal(done.statusCode, 200);
    assert.match(done.body, /Setup complete/);

    const replay = await inject('POST', '/setup', form({ organizationName: 'Evil', name: 'Eve', email: 'eve@evil.example', password: 'a long enough secret' }), headers);
    assert.equal(replay.statusCode, 403);
    assert.equal((await inject('GET', `/setup?token=${encodeURIComponent(token)}`)).statusCode, 403);
    assert.deepEqual((await inject('GET', '/api/v1/setup')).json(), { required: false });
    assert.equal(await runtime.services.setup.prepare(), null, 'no new setup link once a user exists');

    const login = await inject('POST', '/api/v1/auth/login', { email: 'ADA@city.example', password: 'a long enough secret' });
    assert.equal(login.statusCode, 200, 'email matches case-insensitively');
    const me = login.json();
    assert.equal(me.user.isSuperadmin, true);
    assert.equal(me.organizations[0].name, 'City Traffic');
    assert.equal(me.organizations[0].role, 'owner');
  });
});
