import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { testConfig } from '../src/server/core/config.js';
import { startRuntime, type Runtime } from '../src/server/runtime.js';
import { servedByServer } from '../src/server/web/routes.js';
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

  it('the setup link creates the first administrator once, then stops working', async () => {
    assert.deepEqual((await inject('GET', '/api/v1/setup')).json(), { required: true });
    const url = await runtime.services.setup.prepare();
    assert.ok(url);
    const link = new URL(url!);
    // The printed link is a page of the console, which asks the API whether its token is still good.
    assert.equal(link.pathname, '/setup');
    assert.equal(servedByServer(link.pathname), false);
    const token = link.searchParams.get('token')!;
    assert.deepEqual((await inject('GET', '/api/v1/setup?token=wrong-token-value')).json(), { required: true, tokenValid: false });
    assert.deepEqual((await inject('GET', `/api/v1/setup?token=${encodeURIComponent(token)}`)).json(), { required: true, tokenValid: true });

    const body = (fields: Record<string, string>) => ({ token, organizationName: 'City Traffic', name: 'Ada', email: 'ada@city.example', password: 'a long enough secret', ...fields });
    const weak = await inject('POST', '/api/v1/setup', body({ password: 'short' }));
    assert.equal(weak.statusCode, 400);
    assert.equal(weak.json().error.details[0].field, 'password');

    const done = await inject('POST', '/api/v1/setup', body({}));
    assert.equal(done.statusCode, 201, done.body);
    assert.equal(done.json().organization.name, 'City Traffic');

    const replay = await inject('POST', '/api/v1/setup', body({ organizationName: 'Evil', email: 'eve@evil.example' }));
    assert.equal(replay.statusCode, 403);
    assert.deepEqual((await inject('GET', `/api/v1/setup?token=${encodeURIComponent(token)}`)).json(), { required: false, tokenValid: false });
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
