import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BusMessage } from '../src/server/core/bus.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

describe('changes are published for live consoles', () => {
  let app: TestApp;
  let owner: SignedIn;
  const seen: BusMessage[] = [];
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
    app.runtime.ctx.bus.subscribe((m) => seen.push(m));
  });
  after(async () => app.close());

  const waitFor = async (type: string) => {
    for (let i = 0; i < 100; i++) {
      const found = seen.find((m) => m.type === type);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no ${type} message`);
  };

  it('site changes carry the organization and the site, so site restrictions apply to them', async () => {
    const site = await owner.client.post('/api/v1/sites', { name: 'Live yard' });
    const created = await waitFor('site.created');
    assert.equal(created.orgId, owner.orgId);
    assert.equal(created.siteId, site.body.id);
    assert.equal((created.data.site as { name: string }).name, 'Live yard');
    await owner.client.delete(`/api/v1/sites/${site.body.id}`);
    assert.equal((await waitFor('site.deleted')).siteId, site.body.id);
  });

  it('member changes are only for those who may read members', async () => {
    const member = await app.member(owner, 'viewer');
    const joined = await waitFor('member.joined');
    assert.equal(joined.requires, 'member.read');
    assert.equal(joined.data.userId, member.userId);
  });
});
