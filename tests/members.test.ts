import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { servedByServer } from '../src/server/web/routes.js';
import { PASSWORD, startTestApp, uniqueEmail, type SignedIn, type TestApp } from './helpers/app.js';

describe('members, invitations and registration codes', () => {
  let app: TestApp;
  let owner: SignedIn;
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
  });
  after(async () => app.close());

  it('an invited member joins with the role and sites of the invitation; the link works once', async () => {
    const site = (await owner.client.post('/api/v1/sites', { name: 'Depot 7' })).body.id;
    const email = uniqueEmail('operator');
    const invitation = await owner.client.post('/api/v1/invitations', { email, role: 'operator', siteIds: [site] });
    assert.equal(invitation.status, 201);
    assert.match(invitation.body.inviteUrl, /^http:\/\/localhost:\d+\/invite\?token=/);
    const token = new URL(invitation.body.inviteUrl).searchParams.get('token');
    const joined = await app.client().register({ invitationToken: token, name: 'Otto Operator' });
    assert.equal(joined.status, 201);
    assert.equal(joined.body.role, 'operator');
    const again = await app.client().register({ invitationToken: token, name: 'Again' });
    assert.equal(again.status, 400);
    const members = await owner.client.get(`/api/v1/members?search=${encodeURIComponent(email)}`);
    assert.equal(members.body.items[0].role, 'operator');
    assert.deepEqual(members.body.items[0].siteIds, [site]);
    const invitations = await owner.client.get('/api/v1/invitations');
    assert.ok(invitations.body.items.find((i: { email: string }) => i.email === email).acceptedAt);
  });

  it('the emailed invitation link is a console page; its token joins through the API', async () => {
    const email = uniqueEmail('page');
    const invitation = await owner.client.post('/api/v1/invitations', { email, role: 'viewer' });
    const url = new URL(invitation.body.inviteUrl);
    assert.equal(url.pathname, '/invite');
    assert.equal(servedByServer(url.pathname), false, 'the console answers /invite');
    const token = url.searchParams.get('token')!;
    const preview = await app.client().get(`/api/v1/auth/invitation?token=${encodeURIComponent(token)}`);
    assert.equal(preview.status, 200);
    assert.equal(preview.body.email, email);
    assert.equal(preview.body.role, 'viewer');
    assert.equal(preview.body.accountExists, false);
    assert.match(preview.body.organizationName, /^Acme Traffic/);
    assert.equal((await app.client().get('/api/v1/auth/invitation?token=not-a-real-invitation-token')).status, 400);
    const weak = await app.client().register({ invitationToken: url.searchParams.get('token'), name: 'Bea', password: 'short' });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.error.details[0].field, 'password');
    const nameless = await app.client().request('POST', '/api/v1/auth/register', { invitationToken: token, password: 'a fine long password' });
    assert.equal(nameless.status, 400);
    assert.equal(nameless.body.error.details[0].field, 'name', 'a new account needs a name (and the invitation stays open)');
    const joined = await app.client().register({ invitationToken: url.searchParams.get('token'), name: 'Bea', password: 'a fine long password' });
    assert.equal(joined.status, 201);
    assert.equal(joined.body.user.email, email);
    assert.equal((await app.client().login(email, 'a fine long password')).status, 200);
    assert.equal((await app.client().get(`/api/v1/auth/invitation?token=${encodeURIComponent(token)}`)).status, 400, 'used');

    // Sent to someone who already has an account: the page asks for that password instead of a new one.
    const again = await (await app.owner('Second Org')).client.post('/api/v1/invitations', { email, role: 'operator' });
    const existing = await app.client().get(`/api/v1/auth/invitation?token=${encodeURIComponent(new URL(again.body.inviteUrl).searchParams.get('token')!)}`);
    assert.equal(existing.body.accountExists, true);
    assert.match(existing.body.organizationName, /^Second Org/);
    const joined2 = await app.client().request('POST', '/api/v1/auth/register', { invitationToken: new URL(again.body.inviteUrl).searchParams.get('token'), password: 'a fine long password' });
    assert.equal(joined2.status, 201, 'an existing account joins without giving a name again');
    assert.equal(joined2.body.user.name, 'Bea');
  });

  it('a revoked invitation cannot be used', async () => {
    const invitation = await owner.client.post('/api/v1/invitations', { email: uniqueEmail(), role: 'viewer' });
    assert.equal((await owner.client.delete(`/api/v1/invitations/${invitation.body.id}`)).status, 204);
    const token = new URL(invitation.body.inviteUrl).searchParams.get('token');
    assert.equal((await app.client().register({ invitationToken: token })).status, 400);
  });

  it('changing role or site restriction, deactivating and removing take effect on the next request', async () => {
    const member = await app.member(owner, 'manager');
    assert.equal((await member.client.post('/api/v1/sites', { name: 'Managed' })).status, 201);
    await owner.client.patch(`/api/v1/members/${member.userId}`, { role: 'viewer' });
    assert.equal((await member.client.post('/api/v1/sites', { name: 'Managed 2' })).status, 403);
    await owner.client.patch(`/api/v1/members/${member.userId}`, { isActive: false });
    const me = await member.client.get('/api/v1/auth/me');
    assert.equal(me.body.organization, null, 'a deactivated member no longer acts in the organization');
    assert.equal((await member.client.get('/api/v1/sites')).status, 403);
    await owner.client.patch(`/api/v1/members/${member.userId}`, { isActive: true });
    assert.equal((await member.client.get('/api/v1/sites')).status, 200);
    assert.equal((await owner.client.delete(`/api/v1/members/${member.userId}`)).status, 204);
    assert.equal((await member.client.get('/api/v1/sites')).status, 403);
  });

  it('rejects restricting a member to a site of another organization', async () => {
    const member = await app.member(owner, 'viewer');
    const other = await app.owner('Elsewhere');
    const foreignSite = (await other.client.post('/api/v1/sites', { name: 'Foreign' })).body.id;
    const response = await owner.client.patch(`/api/v1/members/${member.userId}`, { siteIds: [foreignSite] });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.details[0].field, 'siteIds');
  });

  it('the last owner can be neither removed, demoted nor deactivated', async () => {
    const solo = await app.owner('Solo');
    for (const attempt of [
      await solo.client.delete(`/api/v1/members/${solo.userId}`),
      await solo.client.patch(`/api/v1/members/${solo.userId}`, { role: 'admin' }),
      await solo.client.patch(`/api/v1/members/${solo.userId}`, { isActive: false }),
    ]) {
      assert.equal(attempt.status, 409);
      assert.match(attempt.body.error.message, /at least one owner/);
    }
    const second = await app.member(solo, 'owner');
    assert.equal((await solo.client.delete(`/api/v1/members/${second.userId}`)).status, 204);
  });

  it('the organization email-domain rule applies to invitations and sign-ups', async () => {
    const strict = await app.owner('Strict');
    assert.equal((await strict.client.patch('/api/v1/organization', { allowedEmailDomains: ['strict.example'] })).status, 200);
    const invite = await strict.client.post('/api/v1/invitations', { email: 'someone@gmail.com', role: 'viewer' });
    assert.equal(invite.status, 400);
    assert.match(invite.body.error.message, /strict\.example/);
    const code = (await strict.client.post('/api/v1/registration-codes', { role: 'viewer', maxUses: 5 })).body.code;
    const outsider = await app.client().register({ registrationCode: code, email: 'someone@gmail.com' });
    assert.equal(outsider.status, 400);
    assert.equal(outsider.body.error.details[0].field, 'email');
    const insider = await app.client().register({ registrationCode: code, email: `ana.${Date.now()}@STRICT.example` });
    assert.equal(insider.status, 201);
    const codes = await strict.client.get('/api/v1/registration-codes');
    assert.equal(codes.body.items[0].uses, 1, 'the rejected sign-up did not use the code');
  });

  it('the plan limit on users is enforced with a clear error', async () => {
    const small = await app.owner('Small');
    await app.superadmin.client.patch(`/api/v1/organizations/${small.orgId}`, { maxUsers: 2 });
    await app.member(small, 'viewer');
    const code = (await small.client.post('/api/v1/registration-codes', { role: 'viewer', maxUses: 5 })).body.code;
    const third = await app.client().register({ registrationCode: code, email: uniqueEmail() });
    assert.equal(third.status, 403);
    assert.equal(third.body.error.code, 'plan_limit');
  });

  it('20 concurrent sign-ups against a 5-use code create exactly 5 accounts', async () => {
    const created = await owner.client.post('/api/v1/registration-codes', { role: 'viewer', maxUses: 5, label: 'Open day' });
    assert.equal(created.status, 201);
    assert.match(created.body.code, /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    const emails = Array.from({ length: 20 }, () => uniqueEmail('rush'));
    const results = await Promise.all(
      emails.map((email, i) => {
        const client = app.client();
        client.ip = `10.9.${Math.floor(i / 250)}.${i % 250}`;
        return client.register({ registrationCode: created.body.code.toLowerCase(), email });
      }),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 5, `statuses: ${statuses.join(',')}`);
    assert.ok(statuses.filter((s) => s !== 201).every((s) => s === 400));
    let accounts = 0;
    for (const email of emails) if ((await app.client().login(email, PASSWORD)).status === 200) accounts += 1;
    assert.equal(accounts, 5);
    const code = (await owner.client.get('/api/v1/registration-codes')).body.items.find((c: { id: string }) => c.id === created.body.id);
    assert.equal(code.uses, 5);
  });

  it('a revoked or expired code is refused', async () => {
    const code = await owner.client.post('/api/v1/registration-codes', { role: 'viewer', maxUses: 5 });
    await owner.client.delete(`/api/v1/registration-codes/${code.body.id}`);
    assert.equal((await app.client().register({ registrationCode: code.body.code, email: uniqueEmail() })).status, 400);
    const past = await owner.client.post('/api/v1/registration-codes', { role: 'viewer', maxUses: 5, expiresAt: '2020-01-01T00:00:00Z' });
    assert.equal(past.status, 400);
  });

  it('lists page with a cursor and no repeats', async () => {
    const busy = await app.owner('Busy');
    for (let i = 0; i < 7; i++) await busy.client.post('/api/v1/invitations', { email: uniqueEmail(), role: 'viewer' });
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/v1/invitations?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await busy.client.get(url);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      for (const item of page.body.items) seen.add(item.id);
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    assert.equal(seen.size, 7);
    assert.equal(pages, 3);
    assert.equal((await busy.client.get('/api/v1/invitations?cursor=garbage')).status, 400);
  });
});
