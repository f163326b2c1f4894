/**
 * Organization retention: dropping an organization's month sub-partition against deleting the same
 * rows in chunks (what retention does in partitions shared with other organizations), on a fresh
 * database of the PostgreSQL service. Both months hold BENCH_RETENTION_ROWS (1,000,000) events of the
 * organization with retention and as many of another organization, loaded with `generate_series`
 * interleaved in time, 1% with a photo key. Timed: reading the photo keys, then detaching and dropping the sub-partition;
 * against the chunked deletes (5,000 rows a statement, photo keys returned) until none are left.
 * Only the database work is measured (no media deletes).
 *
 * Settings (environment): BENCH_RETENTION_ROWS, BENCH_RETENTION_SERVICE_URL
 * (postgres://postgres@127.0.0.1:5432/postgres).
 */
import pino from 'pino';
import { openDatabase } from '../src/server/core/db/database.js';
import { migrate } from '../src/server/core/db/migrate.js';
import { createPartition, dropPartition, organizationPartitionName } from '../src/server/core/db/partitions.js';
import { deleteOldEvents, partitionPhotoKeys } from '../src/server/retention/store.js';
import { type Benchmark, createScratchDatabase, envInt, now, type Reporter, round } from './lib.js';

const CHUNK = 5_000;
const ORG = '00000000-0000-4000-8000-00000000000a';
const OTHER = '00000000-0000-4000-8000-00000000000b';

async function run(report: Reporter): Promise<void> {
  const rows = envInt('BENCH_RETENTION_ROWS', 1_000_000, 1000, 50_000_000);
  const serverUrl = process.env.BENCH_RETENTION_SERVICE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(serverUrl).hostname)) throw new Error('BENCH_RETENTION_SERVICE_URL must point to loopback');
  const scratch = await createScratchDatabase(serverUrl, 'vigil_bench_retention');
  const database = openDatabase(scratch.url, 4);
  try {
    await migrate(database.pool, pino({ level: 'silent' }));
    await database.pool.query(`INSERT INTO organizations (id, name, slug, retention_days) VALUES ($1, 'Short', 'short', 90), ($2, 'Other', 'other', NULL)`, [ORG, OTHER]);
    // 2024-01: laid out by organization (the organization has its own part); 2024-02: one plain shared table.
    await createPartition(database.db, 'events', new Date('2024-01-01T00:00:00Z'));
    await database.pool.query(`CREATE TABLE events_y2024m02 PARTITION OF events FOR VALUES FROM ('2024-02-01T00:00:00Z') TO ('2024-03-01T00:00:00Z')`);
    const started = now();
    for (const month of ['2024-01-01', '2024-02-01']) {
      // The two organizations' events interleaved in time, as they arrive.
      await database.pool.query(`
        INSERT INTO events (org_id, device_id, ts, client_ref, kind, speed, photo_key)
        SELECT CASE WHEN n % 2 = 0 THEN $1::uuid ELSE $2::uuid END, gen_random_uuid(),
               $3::timestamptz + (n * interval '1 second'), n::text, 'speed', 20 + n % 30,
               CASE WHEN n % 200 = 0 THEN 'photos/bench/' || n || '.jpg' END
        FROM generate_series(1, $4::int * 2) AS n`, [ORG, OTHER, month, rows]);
    }
    await database.pool.query('VACUUM ANALYZE events');
    report.add({ metric: 'load', value: round((now() - started) / 1000), unit: 's', note: `${(rows * 4).toLocaleString('en-US')} events in two months` });

    const own = organizationPartitionName('events_y2024m01', ORG);
    let t = now();
    const photos = await partitionPhotoKeys(database.db, own);
    const photoMs = now() - t;
    t = now();
    await dropPartition(database.db, 'events_y2024m01', own);
    const dropMs = now() - t;
    report.add({ metric: 'read the photo keys of the organization\'s month', value: round(photoMs), unit: 'ms', note: `${photos.length} keys among ${rows.toLocaleString('en-US')} rows` });
    report.add({ metric: 'detach and drop the organization\'s month', value: round(dropMs), unit: 'ms' });

    t = now();
    let deleted = 0;
    for (;;) {
      const chunk = await deleteOldEvents(database.db, 'events_y2024m02', ORG, new Date('2024-03-01T00:00:00Z'), CHUNK);
      deleted += chunk.deleted;
      if (chunk.deleted < CHUNK) break;
    }
    const deleteMs = now() - t;
    report.add({ metric: 'chunked delete from a shared month', value: round(deleteMs), unit: 'ms', note: `${deleted.toLocaleString('en-US')} rows in chunks of ${CHUNK}` });
    report.add({ metric: 'ratio', value: round(deleteMs / (photoMs + dropMs), 0), unit: '×', note: 'chunked delete / (photo keys + drop); the delete also leaves dead rows for VACUUM' });
    const left = await database.pool.query<{ org_id: string; n: string }>('SELECT org_id, count(*) AS n FROM events GROUP BY org_id');
    const otherRows = Number(left.rows.find((r) => r.org_id === OTHER)?.n ?? 0);
    if (otherRows !== rows * 2 || left.rows.length !== 1) report.problem(`expected only the other organization's ${rows * 2} rows left, found ${JSON.stringify(left.rows)}`);
  } finally {
    await database.close();
    await scratch.drop();
  }
}

export const retention: Benchmark = {
  name: 'retention',
  description: "an organization's month dropped as a sub-partition vs. the same rows deleted in chunks",
  needsBuild: false,
  run,
};
