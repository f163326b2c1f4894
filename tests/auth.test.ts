import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, uniqueEmail, type TestApp } from './helpers/app.js';

describe('sign-in, sessions and CSRF', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => app.close());

  it('signs in, reports who I am with my organization and a CSRF token, and signs out', async () => {
    const owner = await app.owner();
    const me = await owner.client.get('/api/v1/auth/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.user.email, owner.email);
    assert.equal(me.body.organization.id, owner.orgId);
    assert.equal(me.body.organization.role, 'owner');
    assert.ok(me.body.csrfToken);

    assert.equal((await owner.client.post('/api/v1/auth/logout')).status, 204);
    // The old cookie no longer works, even if a client kept it.
    const stale = app.client();
    stale.cookie = owner.client.cookie ?? (me.headers['set-cookie'] as string);
    assert.equal((await owner.client.get('/api/v1/auth/me')).status, 401);
  });

  it('sets an HTTP-only SameSite=Lax session cookie', async () => {
    const owner = await app.owner();
    const response = await app.client().request('POST', '/api/v1/auth/login', { email: owner.email, password: owner.password });
    const cookie = String(response.headers['set-cookie']);
    assert.match(cookie, /vigil_session=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
  });

  it('rejects a wrong password and an unknown email with the same 401 message', async () => {
    const owner = await app.owner();
    const wrong = await app.client().login(owner.email, 'not the password');
    const unknown = await app.client().login(uniqueEmail(), 'not the password');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.body.error.message, unknown.body.error.message);
  });

  it('refuses a cookie-authenticated write without the CSRF header, or with another session\'s', async () => {
    const owner = await app.owner();
    const other = await app.owner();
    const body = { name: 'North depot' };
    const noHeader = await owner.client.request('POST', '/api/v1/sites', body, { 'x-csrf-token': '' });
    assert.equal(noHeader.status, 403);
    assert.match(noHeader.body.error.message, /x-csrf-token/);
    const foreign = await owner.client.request('POST', '/api/v1/sites', body, { 'x-csrf-token': other.client.csrf! });
    assert.equal(foreign.status, 403);
    assert.equal((await owner.client.post('/api/v1/sites', body)).status, 201);
  });

  it('a password change signs out my other sessions but keeps this one', async () => {
    const owner = await app.owner();
    const laptop = app.client();
    await laptop.login(owner.email, owner.password);
    const change = await owner.client.post('/api/v1/auth/change-password', { currentPassword: owner.password, newPassword: 'a brand new passphrase' });
    assert.equal(change.status, 200);
    assert.equal(change.body.otherSessionsRevoked, 1);
    assert.equal((await laptop.get('/api/v1/auth/me')).status, 401);
    assert.equal((await owner.client.get('/api/v1/auth/me')).status, 200);
    assert.equal((await app.client().login(owner.email, 'a brand new passphrase')).status, 200);
  });

  it('rejects a wrong current password with a field error', async () => {
    const owner = await app.owner();
    const change = await owner.client.post('/api/v1/auth/change-password', { currentPassword: 'nope nope nope', newPassword: 'a brand new passphrase' });
    assert.equal(change.status, 400);
    assert.equal(change.body.error.details[0].field, 'currentPassword');
  });

  it('personal API tokens act as the user, need no CSRF header, and stop working when revoked', async () => {
    const owner = await app.owner();
    const created = await owner.client.post('/api/v1/auth/tokens', { name: 'reporting script', currentPassword: owner.password });
    assert.equal(created.status, 201);
    assert.match(created.body.token, /^vgl_/);
    const script = app.client();
    script.bearer = created.body.token;
    assert.equal((await script.post('/api/v1/sites', { name: 'From a script' })).status, 201);
    const listed = await owner.client.get('/api/v1/auth/tokens');
    assert.equal(listed.body.items.length, 1);
    assert.equal(listed.body.items[0].token, undefined, 'the token itself is never listed');
    assert.ok(listed.body.items[0].lastUsedAt, 'last use is recorded');
    assert.equal((await owner.client.delete(`/api/v1/auth/tokens/${created.body.id}`)).status, 204);
    assert.equal((await script.get('/api/v1/sites')).status, 401);
  });

  it('a password change revokes my API tokens, says how many, and records it in the audit log', async () => {
    const owner = await app.owner();
    const script = app.client();
    script.bearer = (await owner.client.post('/api/v1/auth/tokens', { name: 'nightly export', currentPassword: owner.password })).body.token;
    assert.equal((await script.get('/api/v1/auth/me')).status, 200);
    const newPassword = 'changed because it leaked';
    const change = await owner.client.post('/api/v1/auth/change-password', { currentPassword: owner.password, newPassword });
    assert.deepEqual(change.body, { otherSessionsRevoked: 0, apiTokensRevoked: 1 });
    assert.equal((await script.get('/api/v1/auth/me')).status, 401);
    const listed = await owner.client.get('/api/v1/auth/tokens');
    assert.ok(listed.body.items[0].revokedAt, 'the console lists it as revoked');

    const audit = await app.superadmin.client.get(`/api/v1/admin/audit?action=auth.password_changed&resourceId=${owner.userId}`);
    assert.deepEqual(audit.body.items[0].details, { otherSessionsRevoked: 0, apiTokensRevoked: 1 });
    assert.doesNotMatch(JSON.stringify(audit.body.items[0]), new RegExp(`${newPassword}|${owner.password}|vgl_`));
  });

  it('a password change may keep the API tokens when asked to', async () => {
    const owner = await app.owner();
    const script = app.client();
    script.bearer = (await owner.client.post('/api/v1/auth/tokens', { name: 'kept', currentPassword: owner.password })).body.token;
    const change = await owner.client.post('/api/v1/auth/change-password', { currentPassword: owner.password, newPassword: 'routine rotation here', keepApiTokens: true });
    assert.deepEqual(change.body, { otherSessionsRevoked: 0, apiTokensRevoked: 0 });
    assert.equal((await script.get('/api/v1/auth/me')).status, 200);
  });

  it('creating an API token asks for the current password, and a token cannot create tokens', async () => {
    const owner = await app.owner();
    const missing = await owner.client.post('/api/v1/auth/tokens', { name: 'no password' });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.error.details.map((d: { field: string }) => d.field), ['currentPassword']);
    const wrong = await owner.client.post('/api/v1/auth/tokens', { name: 'wrong password', currentPassword: 'not my password' });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error.details[0].field, 'currentPassword');
    const created = await owner.client.post('/api/v1/auth/tokens', { name: 'right password', currentPassword: owner.password });
    assert.equal(created.status, 201);
    assert.equal((await owner.client.get('/api/v1/auth/tokens')).body.items.length, 1, 'refused attempts created nothing');

    const script = app.client();
    script.bearer = created.body.token;
    const minted = await script.post('/api/v1/auth/tokens', { name: 'from a token', currentPassword: owner.password });
    assert.equal(minted.status, 403);
    assert.match(minted.body.error.message, /API token cannot create/);
  });

  it("another user's API token cannot be revoked (404) and keeps working", async () => {
    const alice = await app.owner();
    const bob = await app.owner();
    const token = await alice.client.post('/api/v1/auth/tokens', { name: 'alice script', currentPassword: alice.password });
    assert.equal((await bob.client.delete(`/api/v1/auth/tokens/${token.body.id}`)).status, 404);
    const script = app.client();
    script.bearer = token.body.token;
    assert.equal((await script.get('/api/v1/auth/me')).status, 200);
  });

  it('a platform administrator deactivating a user signs them out everywhere', async () => {
    const user = await app.owner();
    const token = (await user.client.post('/api/v1/auth/tokens', { name: 'cron', currentPassword: user.password })).body.token;
    const deactivate = await app.superadmin.client.patch(`/api/v1/admin/users/${user.userId}`, { isActive: false });
    assert.equal(deactivate.status, 200);
    assert.equal((await user.client.get('/api/v1/auth/me')).status, 401);
    const script = app.client();
    script.bearer = token;
    assert.equal((await script.get('/api/v1/auth/me')).status, 401);
    assert.equal((await app.client().login(user.email, user.password)).status, 401);
    await app.superadmin.client.patch(`/api/v1/admin/users/${user.userId}`, { isActive: true });
    assert.equal((await app.client().login(user.email, user.password)).status, 200);
  });

  it('answers validation problems with one error shape and a message per field', async () => {
    const response = await app.client().post('/api/v1/auth/login', { email: 'not-an-email' });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'validation_failed');
    const fields = response.body.error.details.map((d: { field: string }) => d.field).sort();
    assert.deepEqual(fields, ['email', 'password']);
  });

  it('sends security headers and a request id on every response; /health allows any origin', async () => {
    for (const url of ['/api/v1/auth/me', '/setup', '/health']) {
      const response = await app.client().request('GET', url, undefined, { 'x-request-id': 'trace-123' });
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
      assert.match(String(response.headers['content-security-policy']), /default-src 'self'/, url);
      assert.equal(response.headers['x-frame-options'], 'SAMEORIGIN', url);
      assert.equal(response.headers['x-request-id'], 'trace-123', url);
    }
    const health = await app.client().request('GET', '/health', undefined, { origin: 'http://raspberrypi:8000' });
    assert.equal(health.headers['access-control-allow-origin'], '*');
    assert.equal(health.headers['cross-origin-resource-policy'], 'cross-origin');
  });

  it('answers unknown API paths with a JSON 404', async () => {
    const response = await app.client().get('/api/v1/no-such-thing');
    assert.equal(response.status, 404);
    assert.equal(response.body.error.code, 'not_found');
  });
});
