/**
 * A large delivery-challan register made in SQL for the challans benchmark: customers, challans spread over
 * three years up to today (numbered per month as Vigil numbers them, the month counters set to match), most with
 * an invoice and a proof-of-delivery file, then VACUUM ANALYZE, as autovacuum would have left a register grown
 * over years. The table's secondary indexes are dropped for the load and rebuilt from their own definitions
 * afterwards (an INSERT maintaining a trigram index row by row is many times slower), and the session skips
 * the foreign-key triggers, whose targets the statements themselves make.
 */
import type pg from 'pg';
import { now, type Reporter, round } from './lib.js';

export const DAYS = 1096;

const FAMILY = [
  'Sharma', 'Gupta', 'Patel', 'Reddy', 'Iyer', 'Mehta', 'Kapoor', 'Agarwal', 'Joshi', 'Nair', 'Bansal', 'Malhotra', 'Chopra', 'Desai',
  'Kulkarni', 'Rao', 'Menon', 'Shah', 'Verma', 'Singh', 'Acme', 'Sunrise', 'Lotus', 'Shree Ganesh', 'Bharat', 'Globe', 'Apex', 'Vertex',
  'Zenith', 'Orion', 'Pioneer', 'Everest', 'Kaveri', 'Ganga', 'Indus', 'Deccan', 'Coromandel', 'Konkan', 'Malabar', 'Narmada',
];
const TRADE = ['Traders', 'Enterprises', 'Industries', 'Gifts', 'Stationers', 'Logistics', 'Pharma', 'Textiles', 'Electricals', 'Hardware'];
const FORM = ['Pvt Ltd', 'LLP', '& Sons', 'Pvt Ltd', 'Co.'];
const GOODS = [
  'cartons of A4 copier paper 75 gsm', 'steel storage racks 6 ft', 'boxes of ball pens (blue)', 'office chairs with arm rest',
  'LED panel lights 2x2 ft', 'rolls of bubble wrap 1 m', 'packets of printer toner 88A', 'corrugated boxes 18x12x12',
  'water dispensers (hot and cold)', 'bags of cement 50 kg', 'PVC pipes 4 inch 6 m', 'safety helmets (yellow)',
  'reflective jackets size L', 'gift hampers (Diwali)', 'cotton towels 30x60', 'bedsheets double 90x100', 'ceiling fans 1200 mm',
  'extension boards 6 socket', 'whiteboard markers assorted', 'laptop bags 15.6 inch', 'first aid kits (industrial)',
  'fire extinguishers ABC 6 kg', 'pallets of packaged drinking water 1 l', 'surgical gloves (box of 100)', 'hand sanitiser 5 l cans',
  'copper cable 2.5 sq mm (90 m)', 'MCB 32 A double pole', 'wall clocks (logo printed)', 'diaries 2025 (corporate)', 'stapler pins 24/6',
];
const EXECUTIVES = [
  'Ravi Kumar', 'Suresh', 'Anil', 'Manoj', 'Vijay', 'Ramesh', 'Prakash', 'Sunil', 'Arjun', 'Deepak', 'Mahesh', 'Rajesh', 'Imran', 'Joseph',
  'Karthik', 'Mohan', 'Naveen', 'Pradeep', 'Santosh', 'Venkat', 'Yusuf', 'Abdul', 'Harish', 'Kiran', 'Lokesh', 'Murali', 'Nagaraj',
  'Raju', 'Srinivas', 'Ganesh',
];

const text = (values: string[]) => `ARRAY[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')}]`;

/** `customers` customers named like Indian trading companies ("Malhotra Textiles LLP"), every name unique. */
function customersSql(orgId: string, customers: number): string {
  // i = family + 40k gives trade (k + family) % 10: distinct for each k < 10, so names never repeat.
  return `
    INSERT INTO challan_customers (org_id, name, tag, address, contact)
    SELECT '${orgId}', f.family || ' ' || t.trade || ' ' || f.form, 'C' || lpad(i::text, 4, '0'),
           (i % 200 + 1) || ', Industrial Area Phase ' || (i % 3 + 1) || ', Bengaluru', 'purchase' || i || '@example.in'
    FROM generate_series(0, ${customers - 1}) AS i,
         LATERAL (SELECT (${text(FAMILY)})[i % 40 + 1] AS family, (${text(FORM)})[i % 5 + 1] AS form) f,
         LATERAL (SELECT (${text(TRADE)})[(i / 40 + i) % 10 + 1] AS trade) t`;
}

/**
 * The challans, oldest first: row n's day is spread evenly over DAYS days ending today, its number is YYMM of
 * that day and its rank within the month. Customers are skewed (a few large ones, a long tail); about 80% have
 * an invoice (INV/<financial year>/<sequence>), 60% of those submitted; a POD file for 95% of challans older
 * than two weeks and for half of the newer ones.
 */
function challansSql(orgId: string, userId: string, rows: number, customers: number): string {
  return `
    WITH org AS (SELECT (now() AT TIME ZONE timezone)::date AS today FROM organizations WHERE id = '${orgId}'),
    customer AS (SELECT row_number() OVER (ORDER BY tag) - 1 AS k, id, name FROM challan_customers WHERE org_id = '${orgId}'),
    base AS (
      SELECT n, (SELECT today FROM org) - ${DAYS - 1} + ((n - 1) * ${DAYS}::bigint / ${rows})::int AS day,
             (SELECT today FROM org) AS today, random() AS r1, random() AS r2, random() AS r3
      FROM generate_series(1, ${rows}) AS n
    ),
    numbered AS (
      SELECT b.*, to_char(day, 'YYMM') AS month, row_number() OVER (PARTITION BY to_char(day, 'YYMM') ORDER BY n) AS seq FROM base b
    )
    INSERT INTO delivery_challans (id, org_id, number, challan_date, customer_id, customer_name, description, delivery_executives,
      invoice_number, invoice_date, invoice_submitted, invoice_submitted_at, pod_file_id, pod_uploaded_at,
      created_by, updated_by, created_at, updated_at)
    SELECT md5('challan' || n)::uuid, '${orgId}', month || lpad(seq::text, 5, '0'), day, c.id, c.name,
           (1 + n % 40) || ' ' || (${text(GOODS)})[1 + (n * 7) % ${GOODS.length}] || ', ' || (${text(GOODS)})[1 + (n * 13) % ${GOODS.length}],
           CASE WHEN n % 3 = 0 THEN ARRAY[(${text(EXECUTIVES)})[1 + n % ${EXECUTIVES.length}], (${text(EXECUTIVES)})[1 + (n / 7) % ${EXECUTIVES.length}]]
                ELSE ARRAY[(${text(EXECUTIVES)})[1 + n % ${EXECUTIVES.length}]] END,
           inv.number, inv.invoiced, inv.submitted, CASE WHEN inv.submitted THEN inv.invoiced + time '16:30' END,
           CASE WHEN pod.received THEN md5('pod' || n)::uuid END, CASE WHEN pod.received THEN pod.at END,
           '${userId}', '${userId}', day + time '09:00' + (n % 480) * interval '1 minute', day + time '18:00'
    FROM numbered
    JOIN customer c ON c.k = floor(power(r1, 1.7) * ${customers})::bigint
    CROSS JOIN LATERAL (
      SELECT CASE WHEN r2 < 0.8 THEN 'INV/' || to_char(day - 90, 'YY') || to_char(day + 275, 'YY') || '/' || lpad((n % 99991)::text, 6, '0') END AS number,
             CASE WHEN r2 < 0.8 THEN least(day + (n % 6), today) END AS invoiced,
             r2 < 0.48 AS submitted
    ) inv
    CROSS JOIN LATERAL (
      SELECT r3 < CASE WHEN day < today - 14 THEN 0.95 ELSE 0.5 END AS received,
             least(day + (n % 4), today) + time '14:00' AS at
    ) pod`;
}

/** One POD file (version 1) for each challan that points at one: PDFs, and photos with a thumbnail. */
function podFilesSql(orgId: string, userId: string): string {
  return `
    INSERT INTO challan_pod_files (id, org_id, challan_id, version, file_name, content_type, size_bytes, storage_key, preview_key, uploaded_by, uploaded_at)
    SELECT pod_file_id, org_id, id, 1, 'pod-' || number || CASE WHEN number::bigint % 3 = 0 THEN '.jpg' ELSE '.pdf' END,
           CASE WHEN number::bigint % 3 = 0 THEN 'image/jpeg' ELSE 'application/pdf' END, 150000 + (number::bigint % 500000),
           'bench/challans/' || id || '/1', CASE WHEN number::bigint % 3 = 0 THEN 'bench/challans/' || id || '/1-thumb.jpg' END,
           '${userId}', pod_uploaded_at
    FROM delivery_challans WHERE org_id = '${orgId}' AND pod_file_id IS NOT NULL`;
}

/** The month counters where the numbering would have left them: the last sequence of each month. */
function countersSql(orgId: string): string {
  return `
    INSERT INTO challan_number_counters (org_id, month, last_sequence)
    SELECT org_id, left(number, 4), max(right(number, 5)::int) FROM delivery_challans WHERE org_id = '${orgId}' GROUP BY 1, 2
    ON CONFLICT (org_id, month) DO UPDATE SET last_sequence = excluded.last_sequence`;
}

async function timed(report: Reporter, client: pg.Client, what: string, statement: string): Promise<number> {
  const started = now();
  const result = await client.query(statement);
  const ms = now() - started;
  report.log(`${what}: ${round(ms / 1000, 1)} s${result.rowCount ? ` (${result.rowCount.toLocaleString('en-US')} rows)` : ''}`);
  return ms;
}

/** Loads the register; answers the seconds it took, the part of them rebuilding indexes, and the table's size. */
export async function loadRegister(report: Reporter, client: pg.Client, orgId: string, userId: string, rows: number, customers: number) {
  const started = now();
  await client.query(`SET maintenance_work_mem = '256MB'`);
  await client.query(`SET work_mem = '64MB'`);
  await timed(report, client, `${customers} customers`, customersSql(orgId, customers));
  // Indexes that are not constraints (the primary key and the unique number stay and check the load).
  const { rows: indexes } = await client.query<{ name: string; definition: string }>(`
    SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
    WHERE i.tablename = 'delivery_challans' AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)`);
  for (const index of indexes) await client.query(`DROP INDEX ${index.name}`);
  await client.query('SET session_replication_role = replica');
  await timed(report, client, 'challans', challansSql(orgId, userId, rows, customers));
  await timed(report, client, 'POD files', podFilesSql(orgId, userId));
  await client.query('SET session_replication_role = DEFAULT');
  await timed(report, client, 'month counters', countersSql(orgId));
  let indexMs = 0;
  for (const index of indexes) indexMs += await timed(report, client, `index ${index.name}`, index.definition);
  await timed(report, client, 'VACUUM ANALYZE', 'VACUUM (ANALYZE) delivery_challans, challan_pod_files, challan_customers, challan_number_counters');
  // The load leaves about a gigabyte to write out: done now, not by the checkpointer during the measurements.
  await timed(report, client, 'CHECKPOINT', 'CHECKPOINT');
  const size = await client.query<{ tableSize: string; indexSize: string }>(`
    SELECT pg_size_pretty(pg_table_size('delivery_challans')) AS "tableSize", pg_size_pretty(pg_indexes_size('delivery_challans')) AS "indexSize"`);
  return { seconds: (now() - started) / 1000, indexSeconds: indexMs / 1000, indexes: indexes.map((i) => i.name), ...size.rows[0]! };
}
