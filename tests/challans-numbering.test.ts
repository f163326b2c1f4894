import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * Challan numbers: YYMM of the challan date + a 5-digit sequence per organization and month, taken from a
 * counter row in the insert's transaction, so concurrent creates neither collide nor leave gaps.
 */
describe('challan numbering', () => {
  let app: TestApp;
  let owner: SignedIn;
  let customerId: string;

  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
    customerId = (await owner.client.post('/api/v1/customers', { name: 'Numbering Traders', tag: 'NUM' })).body.id;
  });
  after(async () => app.close());

  const create = (client: SignedIn['client'], challanDate: string, customer = customerId) =>
    client.post('/api/v1/challans', { challanDate, customerId: customer, description: `Goods of ${challanDate}` });

  it('20 concurrent creates across a month boundary: consecutive numbers per month from 00001, no gap, no collision', async () => {
    // Interleaved: the last day of January and the first of February, plus refused creates that take no number.
    const dates = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? '2025-01-31' : '2025-02-01'));
    const refused = Array.from({ length: 4 }, () => create(owner.client, '2999-01-01'));
    const responses = await Promise.all([...dates.map((date) => create(owner.client, date)), ...refused]);
    for (const response of responses.slice(0, 20)) assert.equal(response.status, 201, JSON.stringify(response.body));
    for (const response of responses.slice(20)) assert.equal(response.status, 400);

    const numbers = (month: string) => responses.slice(0, 20).map((r) => r.body.number as string).filter((n) => n.startsWith(month)).sort();
    const expected = (month: string) => Array.from({ length: 10 }, (_, i) => `${month}${String(i + 1).padStart(5, '0')}`);
    assert.deepEqual(numbers('2501'), expected('2501'));
    assert.deepEqual(numbers('2502'), expected('2502'));
  });

  it("deleted numbers stay taken, and another organization's months are its own", async () => {
    const last = (await owner.client.get('/api/v1/challans?from=2025-01-01&to=2025-01-31&sort=number&order=desc&limit=1')).body.items[0];
    assert.equal(last.number, '250100010');
    assert.equal((await owner.client.delete(`/api/v1/challans/${last.id}`)).status, 204);
    assert.equal((await create(owner.client, '2025-01-15')).body.number, '250100011');

    const other = await app.owner('Other Logistics');
    const otherCustomer = (await other.client.post('/api/v1/customers', { name: 'Their customer', tag: 'NUM' })).body.id;
    assert.equal((await create(other.client, '2025-01-20', otherCustomer)).body.number, '250100001');
  });

  it('a number never changes, even when the challan is moved to another month', async () => {
    const created = await create(owner.client, '2025-03-10');
    assert.equal(created.body.number, '250300001');
    const moved = await owner.client.patch(`/api/v1/challans/${created.body.id}`, { challanDate: '2025-04-02', number: '250400099' });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.challanDate, '2025-04-02');
    assert.equal(moved.body.number, '250300001');
    assert.equal((await create(owner.client, '2025-04-03')).body.number, '250400001');
  });
});
