import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PERMISSIONS } from '../src/server/core/permissions.js';
import { createHttpApp } from '../src/server/core/http/app.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

const IDENTITY_LEVELS = new Set(['public', 'authenticated', 'superadmin', 'device']);

describe('the permission table covers every route', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => app.close());

  it('every /api route names an access rule that exists', () => {
    const apiRoutes = app.runtime.routes.filter((r) => r.url.startsWith('/api/') && r.method !== 'HEAD');
    assert.ok(apiRoutes.length > 25, `expected the API routes, found ${apiRoutes.length}`);
    const missing = apiRoutes.filter((r) => r.access === undefined || !(r.access in PERMISSIONS || IDENTITY_LEVELS.has(r.access)));
    assert.deepEqual(missing, [], 'routes without a valid config.access');
  });

  it('every action in the table is used by some route (no dead permissions)', () => {
    const used = new Set(app.runtime.routes.map((r) => r.access));
    const unused = Object.keys(PERMISSIONS).filter((action) => !used.has(action));
    assert.deepEqual(unused, []);
  });

  it('a route registered without a rule is closed, not open', async () => {
    const { app: bare } = await createHttpApp(app.runtime.ctx, { users: app.runtime.services.identity, devices: app.runtime.services.devices }, [
      async (instance) => {
        instance.get('/api/v1/forgotten', async () => ({ secret: true }));
      },
    ]);
    const response = await bare.inject({ method: 'GET', url: '/api/v1/forgotten' });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().secret, undefined);
    await bare.close();
  });

  it('serves the OpenAPI document of the routes at /docs', async () => {
    const docs = await app.runtime.app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(docs.statusCode, 200);
    const paths = JSON.parse(docs.body).paths;
    for (const path of ['/api/v1/sites', '/api/v1/auth/login', '/api/v1/members/{userId}', '/api/v1/audit']) assert.ok(paths[path], path);
  });
});

describe('roles', () => {
  let app: TestApp;
  let owner: SignedIn;
  const as: Record<string, SignedIn> = {};
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
    for (const role of ['admin', 'manager', 'operator', 'viewer'] as const) as[role] = await app.member(owner, role);
  });
  after(async () => app.close());

  it('unauthenticated calls get 401', async () => {
    for (const url of ['/api/v1/sites', '/api/v1/members', '/api/v1/audit', '/api/v1/auth/me', '/api/v1/stream']) {
      assert.equal((await app.client().get(url)).status, 401, url);
    }
  });

  it('everyone reads sites; only managers and above write them', async () => {
    for (const role of ['admin', 'manager', 'operator', 'viewer']) {
      assert.equal((await as[role]!.client.get('/api/v1/sites')).status, 200, role);
    }
    assert.equal((await as.viewer!.client.post('/api/v1/sites', { name: 'Viewer site' })).status, 403);
    assert.equal((await as.operator!.client.post('/api/v1/sites', { name: 'Operator site' })).status, 403);
    assert.equal((await as.manager!.client.post('/api/v1/sites', { name: 'Manager site' })).status, 201);
  });

  it('a viewer cannot change anything in the organization', async () => {
    const viewer = as.viewer!.client;
    const site = await owner.client.post('/api/v1/sites', { name: 'Guarded' });
    const attempts = [
      await viewer.patch(`/api/v1/sites/${site.body.id}`, { name: 'Hacked' }),
      await viewer.delete(`/api/v1/sites/${site.body.id}`),
      await viewer.patch('/api/v1/organization', { name: 'Hacked' }),
      await viewer.post('/api/v1/invitations', { email: 'x@example.com', role: 'viewer' }),
      await viewer.post('/api/v1/registration-codes', { role: 'viewer', maxUses: 1 }),
      await viewer.patch(`/api/v1/members/${as.operator!.userId}`, { role: 'viewer' }),
    ];
    assert.deepEqual(attempts.map((r) => r.status), [403, 403, 403, 403, 403, 403]);
    assert.equal((await owner.client.get(`/api/v1/sites/${site.body.id}`)).body.name, 'Guarded');
  });

  it('managers see members but cannot invite; admins invite and read the audit log', async () => {
    assert.equal((await as.manager!.client.get('/api/v1/members')).status, 200);
    assert.equal((await as.manager!.client.post('/api/v1/invitations', { email: 'm@example.com', role: 'viewer' })).status, 403);
    assert.equal((await as.manager!.client.get('/api/v1/audit')).status, 403);
    assert.equal((await as.admin!.client.post('/api/v1/invitations', { email: 'a@example.com', role: 'viewer' })).status, 201);
    assert.equal((await as.admin!.client.get('/api/v1/audit')).status, 200);
  });

  it('only platform administrators reach platform routes', async () => {
    assert.equal((await as.admin!.client.get('/api/v1/organizations')).status, 403);
    assert.equal((await as.admin!.client.get('/api/v1/admin/users')).status, 403);
  });

  it('nobody grants a role above their own', async () => {
    const admin = as.admin!.client;
    const invite = await admin.post('/api/v1/invitations', { email: 'boss@example.com', role: 'owner' });
    assert.equal(invite.status, 403);
    const promote = await admin.patch(`/api/v1/members/${as.viewer!.userId}`, { role: 'owner' });
    assert.equal(promote.status, 403);
    const demoteOwner = await admin.patch(`/api/v1/members/${owner.userId}`, { role: 'viewer' });
    assert.equal(demoteOwner.status, 403, 'an admin cannot change an owner');
  });
});
