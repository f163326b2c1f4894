import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { arrayLiteral } from '../src/server/core/db/array-literal.js';
import { openDatabase, type DatabaseHandle } from '../src/server/core/db/database.js';
import { createTestDatabase, dropTestDatabase } from './helpers/app.js';

/** The array text the ingest path sends as one parameter reads back in PostgreSQL as the values it was built from. */
describe('arrayLiteral: PostgreSQL array parameters without node-postgres escaping', () => {
  let url: string;
  let database: DatabaseHandle;

  before(async () => {
    url = await createTestDatabase();
    database = openDatabase(url, 1);
  });
  after(async () => {
    await database.close();
    await dropTestDatabase(url);
  });

  it('keeps every string as written, quotes, backslashes, braces and the word NULL included, and nulls as nulls', async () => {
    const texts = ['plain', '', 'NULL', 'null', 'a "quoted" word', 'back\\slash\\', '\\"', '{braces}', 'a,b', ' spaced ', 'line\nbreak', 'température ✓', null];
    const { rows } = await sql<{ value: string[] }>`SELECT ${arrayLiteral(texts)}::text[] AS value`.execute(database.db);
    assert.deepEqual(rows[0]!.value, texts);
  });

  it('reads numbers, uuids and times back unchanged', async () => {
    const numbers = [0, -1.5, 3.25, 1e21, 1e-7, 123456789.125, Number.MAX_SAFE_INTEGER];
    const uuids = ['6f1c1f34-2f0b-4a43-9b3c-1e2d3c4b5a69', '00000000-0000-0000-0000-000000000000'];
    const times = [new Date('2026-12-07T10:11:12.345Z'), new Date(Date.UTC(2000, 0, 1))];
    const { rows } = await sql<{ numbers: number[]; uuids: string[]; times: Date[] }>`
      SELECT ${arrayLiteral(numbers)}::float8[] AS numbers, ${arrayLiteral(uuids)}::uuid[] AS uuids,
             ${arrayLiteral(times.map((t) => t.toISOString()))}::timestamptz[] AS times`.execute(database.db);
    assert.deepEqual(rows[0]!.numbers.map(Number), numbers);
    assert.deepEqual(rows[0]!.uuids, uuids);
    assert.deepEqual(rows[0]!.times.map((t) => new Date(t).getTime()), times.map((t) => t.getTime()));
  });
});
