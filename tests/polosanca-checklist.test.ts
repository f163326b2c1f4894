import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, uniqueEmail, PASSWORD, type ApiClient, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * Polo Sanca's acceptance checklist (specs/polosanca.md §10), items 1–31 and 38, against Vigil's own API.
 * Their words → ours: company = organization, branch = site, equipment = device of kind `refrigeration`,
 * GA = superadmin, CA = admin of X, V = viewer of X, RV = viewer of X limited to site B1, CAY = admin of Y.
 * Where Vigil deliberately differs, the test checks the equivalent behaviour and a comment says why.
 * (Items 32–37, alert rules and alerts, are tested with the alert engine.)
 */
describe('Polo Sanca acceptance checklist', () => {
  let app: TestApp;
  let ownerX: SignedIn;
  let ownerY: SignedIn;
  let GA: SignedIn;
  let CA: SignedIn;
  let V: SignedIn;
  let RV: SignedIn;
  let CAY: SignedIn;
  let B1: string;
  let B2: string;
  let E1: { id: string; key: string };
  let E2: { id: string; key: string };

  const site = async (owner: SignedIn, name: string) => {
    const created = await owner.client.post('/api/v1/sites', { name });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.id as string;
  };
  const equipment = async (client: ApiClient, serial: string, siteId: string) => {
    const created = await client.post('/api/v1/devices', {
      kind: 'refrigeration', name: `Equipment ${serial}`, serial, siteId, settings: { type: 'freezer', manufacturer: 'Frigo', model: 'F-200', installedAt: '2025-05-01' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  };
  const reading = (serial: string, values: Record<string, unknown> = {}) => ({ serial, temperature: 4.0, pressure: 120, door: 0, heater: 0, compressor: 1, fan: 1, ...values });
  const postTelemetry = (key: string | undefined, payload: Record<string, unknown>, form = false) =>
    app.runtime.app.inject({
      method: 'POST',
      url: '/v1/equipments/telemetry',
      headers: { ...(key && { 'x-api-key': key }), 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
      payload: form ? new URLSearchParams(payload as Record<string, string>).toString() : JSON.stringify(payload),
    });
  const ids = (body: { items: { id: string }[] }) => body.items.map((item) => item.id).sort();
  /** The superadmin acting in one organization (their `?company_id=`): the organization header. */
  const inOrg = (orgId: string) => {
    const client = app.client();
    client.cookie = GA.client.cookie;
    client.csrf = GA.client.csrf;
    client.orgId = orgId;
    return client;
  };

  before(async () => {
    app = await startTestApp();
    GA = app.superadmin;
    ownerX = await app.owner('Company X');
    ownerY = await app.owner('Company Y');
    B1 = await site(ownerX, 'B1');
    B2 = await site(ownerX, 'B2');
    CA = await app.member(ownerX, 'admin');
    V = await app.member(ownerX, 'viewer');
    RV = await app.member(ownerX, 'viewer', [B1]);
    CAY = await app.member(ownerY, 'admin');
    E1 = await equipment(CA.client, 'E1', B1);
    E2 = await equipment(CA.client, 'E2', B2);
  });
  after(async () => app.close());

  describe('authentication', () => {
    it('1. login answers 200 with the user, their role and organization; last login is recorded', async () => {
      // Vigil signs browsers in with an HttpOnly session cookie plus a CSRF token, not JWT access/refresh tokens.
      const client = app.client();
      const login = await client.login(V.email, V.password);
      assert.equal(login.status, 200);
      assert.equal(login.body.user.email, V.email);
      const { id, role, siteIds } = login.body.organization;
      assert.deepEqual({ id, role, siteIds }, { id: ownerX.orgId, role: 'viewer', siteIds: null });
      assert.ok(login.body.csrfToken);
      assert.match(String(login.headers['set-cookie']), /vigil_session=.*HttpOnly/i);
      const members = await CA.client.get('/api/v1/members?search=' + encodeURIComponent(V.email));
      assert.ok(Date.now() - Date.parse(members.body.items[0].lastLoginAt) < 60_000);
    });

    it('2. a wrong password and an unknown email get the same 401; a missing field gets 400', async () => {
      const wrong = await app.client().login(V.email, 'not the password');
      const unknown = await app.client().login(uniqueEmail('nobody'), 'whatever');
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.equal(wrong.body.error.message, unknown.body.error.message);
      const missing = await app.client().post('/api/v1/auth/login', { email: V.email });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error.details[0].field, 'password');
    });

    it('3. pending and deactivated users cannot sign in, even with the right password', async () => {
      // Pending: an invited person has no account until they accept, so there is nothing to sign in to.
      const email = uniqueEmail('pending');
      assert.equal((await CA.client.post('/api/v1/invitations', { email, role: 'viewer' })).status, 201);
      assert.equal((await app.client().login(email, PASSWORD)).status, 401);
      // Deactivated: Vigil answers 401 with the same message as a wrong password (Polo Sanca: 403), so
      // that sign-in does not reveal which accounts exist or were deactivated.
      const leaver = await app.member(ownerX, 'viewer');
      assert.equal((await GA.client.patch(`/api/v1/admin/users/${leaver.userId}`, { isActive: false })).status, 200);
      const refused = await app.client().login(leaver.email, leaver.password);
      assert.equal(refused.status, 401);
      assert.equal((await leaver.client.get('/api/v1/devices')).status, 401, 'and their open session ends');
    });

    it('4. no, bad or ended credentials on a protected route → 401 with a JSON error; API tokens are the non-browser credential', async () => {
      // Equivalent of the refresh/access pair: the session cookie is renewed while in use, and scripts use
      // personal API tokens (Bearer). A signed-out session is the "expired token".
      const anonymous = await app.client().get('/api/v1/devices');
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.error.code, 'unauthorized');
      const forged = app.client();
      forged.bearer = 'vgt_not-a-real-token';
      assert.equal((await forged.get('/api/v1/devices')).status, 401);

      const token = await V.client.post('/api/v1/auth/tokens', { name: 'script', currentPassword: V.password });
      assert.equal(token.status, 201, JSON.stringify(token.body));
      const script = app.client();
      script.bearer = token.body.token;
      assert.equal((await script.get('/api/v1/devices')).status, 200);

      const session = app.client();
      await session.login(V.email, V.password);
      const cookie = session.cookie;
      assert.equal((await session.post('/api/v1/auth/logout')).status, 204);
      const replay = app.client();
      replay.cookie = cookie;
      const ended = await replay.get('/api/v1/devices');
      assert.equal(ended.status, 401);
      assert.ok(ended.body.error.message);
    });
  });

  describe('companies (organizations)', () => {
    it('5. only the superadmin lists and creates organizations; a duplicate name is a 4xx', async () => {
      assert.equal((await GA.client.get('/api/v1/organizations')).status, 200);
      assert.equal((await CA.client.get('/api/v1/organizations')).status, 403);
      assert.equal((await V.client.post('/api/v1/organizations', { name: 'Mine' })).status, 403);
      const created = await GA.client.post('/api/v1/organizations', { name: 'Polo Frio' });
      assert.equal(created.status, 201);
      const again = await GA.client.post('/api/v1/organizations', { name: 'Polo Frio' });
      assert.ok(again.status >= 400 && again.status < 500, `duplicate → ${again.status}`);
    });

    it('6. CA reads organization X but not Y', async () => {
      const own = await CA.client.get('/api/v1/organization');
      assert.equal(own.status, 200);
      assert.equal(own.body.id, ownerX.orgId);
      const other = app.client();
      other.cookie = CA.client.cookie;
      other.orgId = ownerY.orgId;
      assert.equal((await other.get('/api/v1/organization')).status, 404, 'not a member of Y: Y is not revealed');
    });
  });

  describe('branches (sites)', () => {
    it('7. CA creates a site without naming the organization: it belongs to X; CA cannot create one in Y', async () => {
      const created = await CA.client.post('/api/v1/sites', { name: 'B3' });
      assert.equal(created.status, 201);
      assert.equal((await ownerX.client.get(`/api/v1/sites/${created.body.id}`)).status, 200);
      assert.equal((await ownerY.client.get(`/api/v1/sites/${created.body.id}`)).status, 404);
      const intoY = app.client();
      intoY.cookie = CA.client.cookie;
      intoY.csrf = CA.client.csrf;
      intoY.orgId = ownerY.orgId;
      assert.equal((await intoY.post('/api/v1/sites', { name: 'Sneaky' })).status, 404, 'acting in Y is refused');
    });

    it('8. site names are unique within an organization; Y may use the same name', async () => {
      const duplicate = await CA.client.post('/api/v1/sites', { name: 'B1' });
      assert.equal(duplicate.status, 409);
      assert.equal(duplicate.body.error.details[0].field, 'name');
      assert.equal((await CAY.client.post('/api/v1/sites', { name: 'B1' })).status, 201);
    });

    it('9. V and RV cannot create, change or delete sites', async () => {
      for (const viewer of [V, RV]) {
        assert.equal((await viewer.client.post('/api/v1/sites', { name: 'No' })).status, 403);
        assert.equal((await viewer.client.patch(`/api/v1/sites/${B1}`, { name: 'No' })).status, 403);
        assert.equal((await viewer.client.delete(`/api/v1/sites/${B1}`)).status, 403);
      }
    });

    it('10. a site that still has devices is not deleted (409, devices unchanged); an empty one is', async () => {
      const refused = await CA.client.delete(`/api/v1/sites/${B2}`);
      assert.equal(refused.status, 409);
      assert.equal((await CA.client.get(`/api/v1/devices/${E2.id}`)).body.siteId, B2);
      const empty = await CA.client.post('/api/v1/sites', { name: 'Empty' });
      assert.equal((await CA.client.delete(`/api/v1/sites/${empty.body.id}`)).status, 204);
      const list = await CA.client.get('/api/v1/sites?limit=200');
      assert.ok(!ids(list.body).includes(empty.body.id));
    });

    it('11. a site\'s detail includes how many devices it has', async () => {
      const detail = await CA.client.get(`/api/v1/sites/${B1}`);
      assert.equal(detail.body.deviceCount, 1);
    });
  });

  describe('users and invitations (members)', () => {
    it('12. CA invites a viewer into X: 201, and the invitation is listed as pending', async () => {
      // Vigil invites into the organization the caller is acting in; there is no company_id to pass.
      const email = uniqueEmail('invitee');
      const invited = await CA.client.post('/api/v1/invitations', { email, role: 'viewer' });
      assert.equal(invited.status, 201);
      assert.ok(invited.body.inviteUrl);
      const pending = await CA.client.get('/api/v1/invitations?limit=200');
      const entry = pending.body.items.find((i: { email: string }) => i.email === email);
      assert.equal(entry.acceptedAt, null);
    });

    it('13. CA cannot invite into Y or above their own role; V cannot invite at all', async () => {
      const intoY = app.client();
      intoY.cookie = CA.client.cookie;
      intoY.csrf = CA.client.csrf;
      intoY.orgId = ownerY.orgId;
      assert.equal((await intoY.post('/api/v1/invitations', { email: uniqueEmail(), role: 'viewer' })).status, 404);
      assert.equal((await CA.client.post('/api/v1/invitations', { email: uniqueEmail(), role: 'owner' })).status, 403);
      // Platform administration is not an organization role: it cannot be handed out by invitation.
      assert.equal((await CA.client.post('/api/v1/invitations', { email: uniqueEmail(), role: 'global_admin' })).status, 400);
      assert.equal((await V.client.post('/api/v1/invitations', { email: uniqueEmail(), role: 'viewer' })).status, 403);
    });

    it('14. only the superadmin makes someone a platform administrator', async () => {
      // Vigil grants platform administration to an existing account (no organization needed) instead of inviting one.
      const person = await app.member(ownerX, 'viewer');
      assert.equal((await CA.client.patch(`/api/v1/admin/users/${person.userId}`, { isSuperadmin: true })).status, 403);
      const granted = await GA.client.patch(`/api/v1/admin/users/${person.userId}`, { isSuperadmin: true });
      assert.equal(granted.status, 200);
      assert.equal(granted.body.isSuperadmin, true);
    });

    it('15. malformed emails → 400; inviting someone who is already a member (any case) → 4xx', async () => {
      for (const email of ['notanemail', 'missing@domain', '@nodomain.com', 'spaces in@email.com']) {
        const response = await CA.client.post('/api/v1/invitations', { email, role: 'viewer' });
        assert.equal(response.status, 400, email);
      }
      const again = await CA.client.post('/api/v1/invitations', { email: V.email.toUpperCase(), role: 'viewer' });
      assert.ok(again.status >= 400 && again.status < 500, `existing member → ${again.status}`);
    });

    it('16. a restriction to no site at all is refused, on invite and on change; another organization\'s site too', async () => {
      // Vigil: siteIds null = every site; an empty list must not silently mean "every site".
      const empty = await CA.client.post('/api/v1/invitations', { email: uniqueEmail(), role: 'viewer', siteIds: [] });
      assert.equal(empty.status, 400);
      assert.equal(empty.body.error.details[0].field, 'siteIds');
      assert.equal((await CA.client.patch(`/api/v1/members/${RV.userId}`, { siteIds: [] })).status, 400);
      const ySite = await site(ownerY, 'Y-only');
      const foreign = await CA.client.post('/api/v1/invitations', { email: uniqueEmail(), role: 'viewer', siteIds: [ySite] });
      assert.equal(foreign.status, 400);
      assert.equal((await RV.client.get('/api/v1/sites')).body.items.length, 1, 'RV unchanged');
    });

    it('17. restricting to [B1, B2] reads back both; back to every site reads back null', async () => {
      const member = await app.member(ownerX, 'viewer');
      const both = await CA.client.patch(`/api/v1/members/${member.userId}`, { siteIds: [B1, B2] });
      assert.equal(both.status, 200);
      assert.deepEqual([...both.body.siteIds].sort(), [B1, B2].sort());
      const full = await CA.client.patch(`/api/v1/members/${member.userId}`, { siteIds: null });
      assert.equal(full.body.siteIds, null);
    });

    it('18. CAY cannot read, change or remove X\'s members (404); V cannot change any (403)', async () => {
      const list = await CAY.client.get('/api/v1/members?limit=200');
      assert.ok(!list.body.items.some((m: { userId: string }) => m.userId === V.userId));
      assert.equal((await CAY.client.patch(`/api/v1/members/${V.userId}`, { role: 'admin' })).status, 404);
      assert.equal((await CAY.client.delete(`/api/v1/members/${V.userId}`)).status, 404);
      assert.equal((await V.client.patch(`/api/v1/members/${RV.userId}`, { role: 'viewer' })).status, 403);
    });

    it('19. an invitee accepts with the token, sets a password and signs in; an expired invitation is refused', async () => {
      const email = uniqueEmail('joiner');
      const invited = await CA.client.post('/api/v1/invitations', { email, role: 'viewer' });
      const token = new URL(invited.body.inviteUrl).searchParams.get('token')!;
      const joined = await app.client().register({ invitationToken: token, password: 'a brand new password' });
      assert.equal(joined.status, 201);
      assert.equal((await app.client().login(email, 'a brand new password')).status, 200);

      const late = await CA.client.post('/api/v1/invitations', { email: uniqueEmail('late'), role: 'viewer' });
      await app.runtime.ctx.pool.query(`UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = $1`, [late.body.id]);
      const lateToken = new URL(late.body.inviteUrl).searchParams.get('token')!;
      const refused = await app.client().register({ invitationToken: lateToken });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.code, 'invalid_invitation');
    });
  });

  describe('site restriction and tenant isolation', () => {
    it('20. RV lists exactly [B1] and only E1', async () => {
      assert.deepEqual(ids((await RV.client.get('/api/v1/sites')).body), [B1]);
      assert.deepEqual(ids((await RV.client.get('/api/v1/devices')).body), [E1.id]);
    });

    it('21. RV reading E2, its telemetry or its maintenance → 404, even when filtering by B2', async () => {
      assert.equal((await RV.client.get(`/api/v1/devices/${E2.id}`)).status, 404);
      assert.equal((await RV.client.get(`/api/v1/devices/${E2.id}/telemetry`)).status, 404);
      assert.equal((await RV.client.get(`/api/v1/devices/${E2.id}/maintenance`)).status, 404);
      assert.deepEqual((await RV.client.get(`/api/v1/devices?siteId=${B2}`)).body.items, []);
      assert.deepEqual((await RV.client.get(`/api/v1/maintenance/records?deviceId=${E2.id}`)).body.items, []);
    });

    it('22. V sees B1, B2, E1 and E2 and nothing of Y; CAY gets 404 on E1', async () => {
      const sites = ids((await V.client.get('/api/v1/sites?limit=200')).body);
      assert.ok(sites.includes(B1) && sites.includes(B2));
      const devices = ids((await V.client.get('/api/v1/devices?limit=200')).body);
      assert.deepEqual(devices, [E1.id, E2.id].sort());
      assert.equal((await CAY.client.get(`/api/v1/devices/${E1.id}`)).status, 404);
      assert.equal((await CAY.client.patch(`/api/v1/devices/${E1.id}`, { name: 'Mine now' })).status, 404);
      assert.equal((await CAY.client.delete(`/api/v1/devices/${E1.id}`)).status, 404);
      assert.equal((await V.client.get(`/api/v1/devices/${E1.id}`)).body.name, 'Equipment E1', 'untouched');
    });

    it('23. when RV\'s only site is deleted, RV sees nothing: never widened to every site', async () => {
      const lone = await site(ownerX, 'Lone');
      const device = await equipment(CA.client, 'E-LONE', lone);
      const restricted = await app.member(ownerX, 'viewer', [lone]);
      assert.deepEqual(ids((await restricted.client.get('/api/v1/devices')).body), [device.id]);
      assert.equal((await CA.client.patch(`/api/v1/devices/${device.id}`, { siteId: B2 })).status, 200);
      assert.equal((await CA.client.delete(`/api/v1/sites/${lone}`)).status, 204);
      assert.deepEqual((await restricted.client.get('/api/v1/sites')).body.items, []);
      assert.deepEqual((await restricted.client.get('/api/v1/devices')).body.items, []);
      assert.equal((await restricted.client.get('/api/v1/maintenance/due?withinDays=365')).body.items.length, 0);
    });

    it('24. telemetry history needs a signed-in user', async () => {
      const anonymous = await app.client().get(`/api/v1/devices/${E1.id}/telemetry`);
      assert.equal(anonymous.status, 401);
    });
  });

  describe('equipment (refrigeration devices)', () => {
    it('25. registering returns a long key once, status offline; later reads never include the key', async () => {
      const created = await CA.client.post('/api/v1/devices', {
        kind: 'refrigeration', name: 'Cold room 9', serial: 'CR-9', siteId: B1, settings: { type: 'cold_room', manufacturer: 'Frigo', model: 'CR', installedAt: '2025-01-01' },
      });
      assert.equal(created.status, 201);
      assert.ok(created.body.apiKey.length > 20);
      assert.equal(created.body.device.status, 'offline');
      assert.equal(created.body.device.settings.manufacturer, 'Frigo');
      const read = JSON.stringify((await CA.client.get(`/api/v1/devices/${created.body.device.id}`)).body);
      const list = JSON.stringify((await CA.client.get('/api/v1/devices?limit=200')).body);
      for (const text of [read, list]) assert.ok(!text.includes(created.body.apiKey));
    });

    it('26. duplicate serial, unknown kind or another organization\'s site → 4xx; V cannot register', async () => {
      // Serials are unique within an organization (devices are identified by their key, so two customers'
      // equipment may share a manufacturer serial); Polo Sanca made them unique system-wide.
      assert.equal((await CA.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Dup', serial: 'E1' })).status, 409);
      const kind = await CA.client.post('/api/v1/devices', { kind: 'toaster', name: 'T', serial: 'T-1' });
      assert.equal(kind.status, 400);
      assert.equal(kind.body.error.details[0].field, 'kind');
      const ySite = await site(ownerY, 'Y-site');
      const foreign = await CA.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'F', serial: 'F-1', siteId: ySite });
      assert.equal(foreign.status, 400);
      assert.equal(foreign.body.error.details[0].field, 'siteId');
      assert.equal((await V.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'V', serial: 'V-1' })).status, 403);
    });

    it('27. the superadmin acting in X sees only X\'s devices; site and status filters narrow the list', async () => {
      await equipment(ownerY.client, 'Y-E1', await site(ownerY, 'Y-branch'));
      const inX = await inOrg(ownerX.orgId).get('/api/v1/devices?limit=200');
      assert.equal(inX.status, 200);
      assert.ok(inX.body.items.length >= 2);
      assert.ok(inX.body.items.every((d: { serial: string }) => !d.serial.startsWith('Y-')));
      const onB2 = await CA.client.get(`/api/v1/devices?siteId=${B2}&limit=200`);
      assert.ok(onB2.body.items.every((d: { siteId: string }) => d.siteId === B2));
      assert.ok(ids(onB2.body).includes(E2.id));
      const offline = await CA.client.get('/api/v1/devices?status=offline&limit=200');
      assert.ok(offline.body.items.every((d: { status: string }) => d.status === 'offline'));
    });
  });

  describe('telemetry (POST /v1/equipments/telemetry, unchanged)', () => {
    it('28. a reading with the right key and serial → 200 with server time and record id; the device goes online', async () => {
      assert.equal((await CA.client.get(`/api/v1/devices/${E1.id}`)).body.status, 'offline');
      const response = await postTelemetry(E1.key, reading('E1'));
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      assert.equal(body.success, true);
      assert.ok(body.message && body.record_id);
      assert.match(body.timestamp, /Z$/);
      const device = (await CA.client.get(`/api/v1/devices/${E1.id}`)).body;
      assert.equal(device.status, 'online');
      assert.ok(Date.now() - Date.parse(device.lastSeenAt) < 60_000);
    });

    it('29. missing or foreign key → 401, unknown serial → 404, missing field or flag 2 → 400, form data → 200', async () => {
      assert.equal((await postTelemetry(undefined, reading('E1'))).statusCode, 401);
      assert.equal((await postTelemetry(E2.key, reading('E1'))).statusCode, 401);
      assert.equal((await postTelemetry(E1.key, reading('NO-SUCH-SERIAL'))).statusCode, 404);
      const missing = await postTelemetry(E1.key, { serial: 'E1', pressure: 120, door: 0, heater: 0, compressor: 1, fan: 1 });
      assert.equal(missing.statusCode, 400);
      assert.equal(missing.json().error.details[0].field, 'temperature');
      const flag = await postTelemetry(E1.key, reading('E1', { door: 2 }));
      assert.equal(flag.statusCode, 400);
      assert.equal((await postTelemetry(E1.key, reading('E1'), true)).statusCode, 200);
    });

    it('30–31. the latest readings win; 0.0 stays 0; ten rapid posts are stored; ISO ranges with Z are accepted', async () => {
      // Vigil's history is a time range (from/to, oldest first, up to 10,000 raw values with a `truncated`
      // flag, or hourly/daily buckets) rather than page/limit with a total count.
      const start = new Date(Date.now() - 1000).toISOString();
      for (const [temperature, pressure] of [[4.0, 120], [4.5, 121], [5.0, 122]]) {
        assert.equal((await postTelemetry(E2.key, reading('E2', { temperature, pressure }))).statusCode, 200);
      }
      const history = await CA.client.get(`/api/v1/devices/${E2.id}/telemetry?from=${start}&metrics=temperature,pressure`);
      assert.equal(history.status, 200, JSON.stringify(history.body));
      const last = (metric: string) => history.body.values.filter((v: { metric: string }) => v.metric === metric).at(-1).value;
      assert.equal(last('temperature'), 5.0);
      assert.equal(last('pressure'), 122);

      assert.equal((await postTelemetry(E2.key, reading('E2', { temperature: 0.0 }))).statusCode, 200);
      const rapid = await Promise.all(Array.from({ length: 10 }, (_, i) => postTelemetry(E2.key, reading('E2', { temperature: 1 + i / 10 }))));
      assert.ok(rapid.every((r) => r.statusCode === 200));
      const after = await CA.client.get(`/api/v1/devices/${E2.id}/telemetry?from=${start}&to=${new Date(Date.now() + 1000).toISOString()}&metrics=temperature`);
      const temperatures = after.body.values.map((v: { value: number }) => v.value);
      assert.equal(temperatures.length, 14);
      assert.ok(temperatures.includes(0), '0.0 reads back as 0, not null');
      const stamps = after.body.values.map((v: { ts: string }) => v.ts);
      assert.deepEqual(stamps, [...stamps].sort(), 'in time order');
    });
  });

  describe('maintenance', () => {
    it('38. CA logs maintenance; performedBy is required (400); history newest first; V cannot write; RV cannot read E2\'s', async () => {
      const first = await CA.client.post(`/api/v1/devices/${E1.id}/maintenance`, {
        type: 'preventive', description: 'Defrost and clean', performedBy: 'Técnico 1', performedAt: '2026-01-05T10:00:00Z', notes: 'ok', nextDueOn: '2026-04-05',
      });
      assert.equal(first.status, 201);
      assert.equal((await CA.client.post(`/api/v1/devices/${E1.id}/maintenance`, { type: 'corrective', description: 'Gasket' })).status, 400);
      await CA.client.post(`/api/v1/devices/${E1.id}/maintenance`, { type: 'corrective', description: 'Gasket', performedBy: 'Técnico 2', performedAt: '2026-02-01T10:00:00Z' });
      const history = await RV.client.get(`/api/v1/devices/${E1.id}/maintenance`);
      assert.deepEqual(history.body.items.map((r: { performedBy: string }) => r.performedBy), ['Técnico 2', 'Técnico 1']);
      assert.equal((await V.client.post(`/api/v1/devices/${E1.id}/maintenance`, { type: 'inspection', description: 'x', performedBy: 'V' })).status, 403);
      await CA.client.post(`/api/v1/devices/${E2.id}/maintenance`, { type: 'inspection', description: 'B2 check', performedBy: 'Técnico 3' });
      assert.equal((await RV.client.get(`/api/v1/devices/${E2.id}/maintenance`)).status, 404);
    });
  });
});
