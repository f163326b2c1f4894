import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from '../src/server/core/db/database.js';
import { inScope } from '../src/server/core/db/scope.js';
import { createTestDatabase, dropTestDatabase } from './helpers/app.js';

/** The one tenant condition (core/db/scope.ts) against a real database: in the query builder and in raw SQL. */
describe('inScope: the tenant and site condition of queries', () => {
  let url: string;
  let database: DatabaseHandle;
  const ids: Record<string, string> = {};

  before(async () => {
    url = await createTestDatabase();
    database = openDatabase(url, 2);
    const { db } = database;
    for (const org of ['a', 'b']) {
      ids[org] = (await db.insertInto('organizations').values({ name: `Org ${org}`, slug: `scope-${org}` }).returning('id').executeTakeFirstOrThrow()).id;
    }
    for (const [site, org] of [['north', 'a'], ['south', 'a'], ['elsewhere', 'b']] as const) {
      ids[site] = (await db.insertInto('sites').values({ org_id: ids[org]!, name: site }).returning('id').executeTakeFirstOrThrow()).id;
    }
    for (const [serial, org, site] of [['A-N', 'a', 'north'], ['A-S', 'a', 'south'], ['A-0', 'a', null], ['B-E', 'b', 'elsewhere'], ['B-0', 'b', null]] as const) {
      await db.insertInto('devices').values({ org_id: ids[org]!, site_id: site ? ids[site]! : null, kind: 'sensor', name: serial, serial }).execute();
    }
  });
  after(async () => {
    await database.close();
    await dropTestDatabase(url);
  });

  const built = async (scope: { orgId: string; siteIds: string[] | null }) =>
    (await database.db.selectFrom('devices as d').select('d.serial').where(inScope(scope, 'd')).orderBy('d.serial').execute()).map((r) => r.serial);
  const raw = async (scope: { orgId: string; siteIds: string[] | null }) =>
    (await sql<{ serial: string }>`SELECT serial FROM devices d WHERE ${inScope(scope, 'd')} ORDER BY serial`.execute(database.db)).rows.map((r) => r.serial);

  it('no site restriction: every row of the organization, with or without a site, and none of another', async () => {
    for (const read of [built, raw]) {
      assert.deepEqual(await read({ orgId: ids.a!, siteIds: null }), ['A-0', 'A-N', 'A-S']);
      assert.deepEqual(await read({ orgId: ids.b!, siteIds: null }), ['B-0', 'B-E']);
    }
  });

  it('a site restriction keeps only rows of those sites (not the unassigned ones)', async () => {
    for (const read of [built, raw]) {
      assert.deepEqual(await read({ orgId: ids.a!, siteIds: [ids.north!] }), ['A-N']);
      assert.deepEqual(await read({ orgId: ids.a!, siteIds: [ids.north!, ids.south!] }), ['A-N', 'A-S']);
      assert.deepEqual(await read({ orgId: ids.a!, siteIds: [] }), [], 'limited to no site sees nothing');
    }
  });

  it("another organization's site in the list never opens its rows", async () => {
    for (const read of [built, raw]) {
      assert.deepEqual(await read({ orgId: ids.a!, siteIds: [ids.north!, ids.elsewhere!] }), ['A-N']);
    }
  });

  it('other column names: the sites table is scoped by its own id', async () => {
    const sites = await database.db.selectFrom('sites as s').select('s.name')
      .where(inScope({ orgId: ids.a!, siteIds: [ids.south!, ids.elsewhere!] }, 's', { site: 'id' })).execute();
    assert.deepEqual(sites.map((s) => s.name), ['south']);
  });
});
