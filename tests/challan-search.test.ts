import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

type Page = { items: { id: string; number: string; description: string }[]; nextCursor: string | null; total: number; totalExact: boolean };

/** What a reader of a large register sees when a search matches many challans: the count shown and the pages. */
describe('challan search: many matches', () => {
  let app: TestApp;
  let owner: SignedIn;
  let customerId: string;

  before(async () => {
    app = await startTestApp();
    owner = await app.owner('Search Office');
    customerId = (await owner.client.post('/api/v1/customers', { name: 'Bulk Feeds Pvt Ltd', tag: 'BULK' })).body.id;
    // 1,001 challans made in one statement (through the API this would take most of the test's time), one a day
    // back from 2025-01-01, each with the customer's common word and its own count.
    await app.runtime.ctx.pool.query(`
      INSERT INTO delivery_challans (org_id, number, challan_date, customer_id, customer_name, description)
      SELECT $1, to_char(day, 'YYMM') || lpad(row_number() OVER (PARTITION BY to_char(day, 'YYMM') ORDER BY day)::text, 5, '0'), day, $2,
             'Bulk Feeds Pvt Ltd', 'Wombat feed, ' || i || ' sacks'
      FROM generate_series(1, 1001) AS i, LATERAL (SELECT date '2025-01-01' - i AS day) d`, [owner.orgId, customerId]);
  });
  after(async () => app.close());

  const search = async (query: string): Promise<Page> => {
    const response = await owner.client.get(`/api/v1/challans?${query}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body;
  };

  it('a common word shows "more than 1,000"; at 1,000 matches the count is exact again', async () => {
    const many = await search('q=WOMBAT&limit=100');
    assert.equal(many.items.length, 100);
    assert.deepEqual([many.total, many.totalExact], [1000, false], 'counted up to 1,000, then "more than"');
    assert.match(many.items[0]!.description, /^Wombat feed, 1 sacks$/, 'newest first');

    const few = await search(`q=${encodeURIComponent('feed, 100')}`);
    assert.deepEqual(few.items.map((c) => c.description).sort(), ['Wombat feed, 100 sacks', 'Wombat feed, 1000 sacks', 'Wombat feed, 1001 sacks']);
    assert.deepEqual([few.total, few.totalExact], [3, true]);

    const oldest = (await search(`q=${encodeURIComponent('feed, 1001')}`)).items[0]!;
    assert.equal((await owner.client.delete(`/api/v1/challans/${oldest.id}`)).status, 204);
    const exact = await search('q=wombat&limit=1');
    assert.deepEqual([exact.total, exact.totalExact], [1000, true], 'exactly 1,000 matches: the count says so');
  });

  it('the pages of a common word hold every match once, newest first', async () => {
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: Page = await search(`q=wombat&limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((c) => c.number));
      cursor = page.nextCursor;
    }
    assert.equal(seen.length, 1000, 'the 1,001 made, less the one deleted');
    assert.equal(new Set(seen).size, 1000);
    assert.deepEqual(seen, [...seen].sort().reverse(), 'one a day, so newest first is the numbers descending');
  });
});
