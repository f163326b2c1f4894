/**
 * The delivery-challan register at scale, measured on a Vigil server run from its sources on the bundled
 * PostgreSQL, with 1,000,000 challans in one organization (made in SQL by challan-data.ts):
 *  a. search (GET /api/v1/challans?q=, the register's first page of 100 with its capped count) for a customer
 *     name fragment, words of a description, an invoice number and a challan number, p95 over a few concurrent
 *     clients, against a plain ILIKE '%term%' over the same columns (the same page and count in raw SQL, which no
 *     index serves) in the same run; EXPLAIN of Vigil's search statements says which index serves them;
 *  b. the first page of a filtered list (customer + POD missing + challan date range, newest first), p95, and the
 *     first page sorted by invoice date, POD date or invoice number, newest first (empty values last), p95;
 *  c. CSV export of 100,000 rows: time, and the server process's resident memory sampled during the export;
 *  d. 50 creates a second for 20 s from 10 concurrent clients: the rate achieved and, in SQL afterwards, the
 *     month's numbers (consecutive from 00001, none twice, the counter at the last).
 */
import fs from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { DAYS, loadRegister } from './challan-data.js';
import { type Benchmark, envInt, freePort, makeTempDir, now, type Reporter, round, sleep, watchPostgresOf } from './lib.js';
import { ADMIN, bundledUrl, type SignedIn, setUpAndSignIn, startVigil, stopVigil, type Vigil, waitReady } from './vigil.js';

const ROWS = envInt('BENCH_CHALLANS_ROWS', 1_000_000, 10_000, 5_000_000);
const CUSTOMERS = 250;
const READERS = envInt('BENCH_CHALLANS_READERS', 2, 1, 50);
const SEARCHES_PER_TERM = 40;
const BASELINE_RUNS = 3;
const LIST_REQUESTS = 80;
const PAGE = 100;
/** The API counts a search's matches up to this many ("more than 1,000"). */
const SEARCH_COUNT_CAP = 1_000;
const EXPORT_ROWS = Math.min(100_000, ROWS / 2);
const CREATE_RATE = 50;
const CREATE_SECONDS = 20;
const CREATE_CLIENTS = 10;

const load = () => os.loadavg().map((l) => round(l, 1)).join(' / ');
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const ms = (value: number) => round(value, value < 10 ? 2 : 1);

interface Run {
  vigil: Vigil;
  user: SignedIn;
  db: pg.Client;
  orgId: string;
}

const auth = (r: Run) => ({ cookie: r.user.cookie, 'x-csrf-token': r.user.csrfToken });

/** `count` GETs of `urlOf(i)` from `clients` concurrent clients, each waiting for its answer: the latencies in ms. */
async function timedGets(r: Run, count: number, clients: number, urlOf: (i: number) => string): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < count) {
      const url = urlOf(next++);
      const started = now();
      const response = await fetch(`${r.vigil.base}${url}`, { headers: auth(r) });
      const body = await response.text();
      latencies.push(now() - started);
      if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${body.slice(0, 300)}`);
    }
  }));
  return latencies;
}

/** Vigil's search (a word or phrase: LIKE on the lowercased text; invoice numbers take another path, see the store). */
const SEARCH_CONDITION = `c.org_id = $1 AND c.deleted_at IS NULL AND c.search_text LIKE lower($2)`;
/** The plain-ILIKE register: the same first page and capped count, the term looked for in each column itself. */
const PLAIN_CONDITION = `c.org_id = $1 AND c.deleted_at IS NULL AND (c.number ILIKE $2 OR c.customer_name ILIKE $2 OR c.description ILIKE $2
  OR array_to_string(c.delivery_executives, ' ') ILIKE $2 OR c.invoice_number ILIKE $2)`;
const pageSql = (condition: string) => `SELECT c.* FROM delivery_challans c WHERE ${condition} ORDER BY c.challan_date DESC, c.number DESC LIMIT ${PAGE + 1}`;
/** The capped count; Vigil's counts newest first (`ordered`), so that a common word's count may stop at the cap. */
const countSql = (condition: string, ordered = false) =>
  `SELECT count(*) FROM (SELECT 1 FROM delivery_challans c WHERE ${condition} ${ordered ? 'ORDER BY c.challan_date DESC, c.number DESC' : ''} LIMIT ${SEARCH_COUNT_CAP + 1}) t`;
const likeOf = (term: string) => `%${term.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

/** The index scans of Vigil's search statements (the page and the count, as the store writes them) for `term`. */
async function searchPlan(r: Run, term: string): Promise<string[]> {
  const used: string[] = [];
  for (const statement of [pageSql(SEARCH_CONDITION), countSql(SEARCH_CONDITION, true)]) {
    const plan = await r.db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement}`, [r.orgId, likeOf(term)]);
    const lines = plan.rows.map((row) => row['QUERY PLAN']);
    used.push(lines.filter((l) => / on delivery_challans|Seq Scan/.test(l)).map((l) => l.trim().replace(/^->\s*/, '').replace(/\s+\(cost.*$/, '')).join(' + '));
  }
  return used;
}

async function indexScans(r: Run, index: string): Promise<number> {
  const { rows } = await r.db.query<{ n: string }>(`SELECT idx_scan AS n FROM pg_stat_user_indexes WHERE indexrelname = $1`, [index]);
  return Number(rows[0]?.n ?? 0);
}

async function search(report: Reporter, r: Run): Promise<void> {
  const pick = async (sql: string) => (await r.db.query<{ v: string }>(sql, [r.orgId])).rows[0]!.v;
  const terms = [
    { what: 'customer name fragment', q: 'malhotra' },
    { what: 'description words', q: 'ceiling fans' },
    { what: 'invoice number', q: await pick(`SELECT invoice_number AS v FROM delivery_challans WHERE org_id = $1 AND invoice_number IS NOT NULL ORDER BY number OFFSET ${Math.floor(ROWS / 3)} LIMIT 1`) },
    { what: 'challan number', q: await pick(`SELECT number AS v FROM delivery_challans WHERE org_id = $1 ORDER BY number OFFSET ${Math.floor(ROWS / 2)} LIMIT 1`) },
  ];
  let served = 0;
  for (const term of terms) {
    const plans = await searchPlan(r, term.q);
    // A common term's page walks the date index (the newest rows match soon), a rare one's uses the trigram index.
    const viaIndex = plans.every((p) => !p.includes('Seq Scan on delivery_challans'));
    if (viaIndex) served += 1;
    else report.problem(`search for "${term.q}" scans the whole table: page ${plans[0]}; count ${plans[1]}`);
    report.log(`EXPLAIN "${term.q}": page ${plans[0]}; count ${plans[1]}`);
  }
  report.add({ metric: 'Search statements served by an index (EXPLAIN)', value: `${served} of ${terms.length}`, note: 'page and count of each term: the trigram index, or the date index for a common term (walked newest first, stopping at the page or the cap)' });

  const scansBefore = await indexScans(r, 'delivery_challans_search');
  const all: number[] = [];
  const baselineAll: number[] = [];
  for (const term of terms) {
    const url = `/api/v1/challans?limit=${PAGE}&q=${encodeURIComponent(term.q)}`;
    const first = (await (await fetch(`${r.vigil.base}${url}`, { headers: auth(r) })).json()) as { items: unknown[]; total: number; totalExact: boolean };
    await timedGets(r, 3, 1, () => url);
    const latencies = await timedGets(r, SEARCHES_PER_TERM, READERS, () => url);
    all.push(...latencies);

    const baseline: number[] = [];
    for (let i = 0; i < BASELINE_RUNS; i++) {
      const started = now();
      await r.db.query(pageSql(PLAIN_CONDITION), [r.orgId, likeOf(term.q)]);
      await r.db.query(countSql(PLAIN_CONDITION), [r.orgId, likeOf(term.q)]);
      baseline.push(now() - started);
    }
    baselineAll.push(...baseline);
    const p95 = percentile(latencies, 95);
    report.add({
      metric: `Search, ${term.what} ("${term.q}"): p95`,
      value: ms(p95),
      unit: 'ms',
      note: `p50 ${ms(percentile(latencies, 50))}; ${first.total.toLocaleString('en-US')}${first.totalExact ? '' : '+'} matches; plain ILIKE ${ms(percentile(baseline, 50))} ms (median of ${BASELINE_RUNS}), ${round(percentile(baseline, 50) / p95, 1)}× slower; load ${load()}`,
    });
  }
  await sleep(1500); // backends report their statistics when idle, at most once a second
  const scans = (await indexScans(r, 'delivery_challans_search')) - scansBefore;
  const p95 = percentile(all, 95);
  const plain = percentile(baselineAll, 50);
  report.add({ metric: 'Search through the API, all terms: p95', value: ms(p95), unit: 'ms', note: `${all.length} requests, ${READERS} clients, page of ${PAGE} + count; trigram index scans during them: ${scans}; target < 50 ms: ${p95 < 50 ? 'met' : 'NOT met'}` });
  report.add({ metric: 'Plain ILIKE scan in SQL, same page + count: median', value: ms(plain), unit: 'ms', note: `${baselineAll.length} runs, p95 ${ms(percentile(baselineAll, 95))} ms, no HTTP` });
  report.add({ metric: 'Ratio plain ILIKE (median) ÷ API search (p95)', value: round(plain / p95, 1), note: 'how many times faster the indexed search answers, HTTP included' });
}

async function filteredList(report: Reporter, r: Run): Promise<void> {
  const { rows: customers } = await r.db.query<{ id: string; n: string }>(`
    SELECT customer_id AS id, count(*) AS n FROM delivery_challans WHERE org_id = $1 GROUP BY 1 ORDER BY 2 DESC LIMIT 10`, [r.orgId]);
  const today = new Date().toISOString().slice(0, 10);
  const from = new Date(Date.now() - 180 * 86_400_000).toISOString().slice(0, 10);
  const urlOf = (i: number) => `/api/v1/challans?limit=${PAGE}&customerId=${customers[i % customers.length]!.id}&pod=missing&from=${from}&to=${today}&sort=challanDate&order=desc`;
  const sample = (await (await fetch(`${r.vigil.base}${urlOf(0)}`, { headers: auth(r) })).json()) as { items: unknown[]; total: number };
  await timedGets(r, 5, 1, urlOf);
  const latencies = await timedGets(r, LIST_REQUESTS, READERS, urlOf);
  const p95 = percentile(latencies, 95);
  report.add({
    metric: 'Filtered list, first page (customer + POD missing + 180 days, newest first): p95',
    value: ms(p95),
    unit: 'ms',
    note: `p50 ${ms(percentile(latencies, 50))}; ${LIST_REQUESTS} requests over the 10 largest customers (${Number(customers[0]!.n).toLocaleString('en-US')}–${Number(customers.at(-1)!.n).toLocaleString('en-US')} challans each; the largest: ${sample.total} match); target < 30 ms: ${p95 < 30 ? 'met' : 'NOT met'}; load ${load()}`,
  });
}

/** The register's first page sorted by a column that may be empty, newest first (empty values last), p95 of each. */
async function sortedPages(report: Reporter, r: Run): Promise<void> {
  const sorts = ['invoiceDate', 'podUploadedAt', 'invoiceNumber'];
  const results: string[] = [];
  let worst = 0;
  for (const sort of sorts) {
    const url = `/api/v1/challans?limit=${PAGE}&sort=${sort}&order=desc`;
    await timedGets(r, 3, 1, () => url);
    const p95 = percentile(await timedGets(r, 30, READERS, () => url), 95);
    worst = Math.max(worst, p95);
    results.push(`${sort} ${ms(p95)} ms`);
  }
  report.add({ metric: 'First page sorted by a column that may be empty, descending: worst p95', value: ms(worst), unit: 'ms', note: `${results.join(', ')} (30 requests each, page of ${PAGE} + count); load ${load()}` });
}

function rssMb(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

async function csvExport(report: Reporter, r: Run): Promise<void> {
  // The day from which the newest EXPORT_ROWS challans start (the whole day, so a few more).
  const { rows: [edge] } = await r.db.query<{ day: string }>(`
    SELECT to_char(challan_date, 'YYYY-MM-DD') AS day FROM delivery_challans WHERE org_id = $1 AND deleted_at IS NULL
    ORDER BY challan_date DESC, number DESC OFFSET ${EXPORT_ROWS - 1} LIMIT 1`, [r.orgId]);
  const { rows: [expected] } = await r.db.query<{ n: string }>(`SELECT count(*) AS n FROM delivery_challans WHERE org_id = $1 AND deleted_at IS NULL AND challan_date >= $2`, [r.orgId, edge!.day]);
  const pid = r.vigil.child.pid;
  const before = rssMb(pid);
  const samples: { rows: number; mb: number }[] = [];
  let lines = 0;
  let bytes = 0;
  const sampler = setInterval(() => samples.push({ rows: lines, mb: rssMb(pid) }), 25);
  const started = now();
  let firstByte = 0;
  try {
    const response = await fetch(`${r.vigil.base}/api/v1/challans.csv?from=${edge!.day}`, { headers: auth(r) });
    if (response.status !== 200 || !response.body) throw new Error(`GET /api/v1/challans.csv answered ${response.status}`);
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      if (!firstByte) firstByte = now() - started;
      bytes += chunk.length;
      for (const byte of chunk) if (byte === 10) lines += 1;
    }
  } finally {
    clearInterval(sampler);
  }
  const seconds = (now() - started) / 1000;
  const rows = lines - 1;
  const peak = Math.max(before, ...samples.map((s) => s.mb));
  const early = Math.max(before, ...samples.filter((s) => s.rows <= EXPORT_ROWS / 10).map((s) => s.mb));
  if (rows !== Number(expected!.n)) report.problem(`the CSV had ${rows} rows, the database ${expected!.n}`);
  report.add({
    metric: `CSV export of ${rows.toLocaleString('en-US')} challans (streamed): time`,
    value: round(seconds, 2),
    unit: 's',
    note: `${round(bytes / 2 ** 20, 1)} MB, ${Math.round(rows / seconds).toLocaleString('en-US')} rows/s, first byte after ${ms(firstByte)} ms; target < 5 s: ${seconds < 5 ? 'met' : 'NOT met'}; load ${load()}`,
  });
  report.add({
    metric: 'CSV export: server RSS peak − before',
    value: round(peak - before, 1),
    unit: 'MB',
    note: `before ${round(before)} MB, peak ${round(peak)} MB (${samples.length} samples every 25 ms); peak within the first ${(EXPORT_ROWS / 10).toLocaleString('en-US')} rows ${round(early)} MB`,
  });
}

async function creates(report: Reporter, r: Run): Promise<void> {
  const { rows: customers } = await r.db.query<{ id: string }>(`SELECT id FROM challan_customers WHERE org_id = $1 ORDER BY tag LIMIT 50`, [r.orgId]);
  const total = CREATE_RATE * CREATE_SECONDS;
  const latencies: number[] = [];
  const numbers: string[] = [];
  const failures: string[] = [];
  let next = 0;
  let behind = 0;
  const started = now();
  await Promise.all(Array.from({ length: CREATE_CLIENTS }, async () => {
    while (next < total) {
      const i = next++;
      const due = started + (i * 1000) / CREATE_RATE;
      if (due > now()) await sleep(due - now());
      else if (now() - due > 100) behind += 1;
      const sent = now();
      const response = await fetch(`${r.vigil.base}/api/v1/challans`, {
        method: 'POST',
        headers: { ...auth(r), 'content-type': 'application/json' },
        body: JSON.stringify({ customerId: customers[i % customers.length]!.id, description: `${1 + (i % 20)} cartons of A4 copier paper (bench ${i})`, deliveryExecutives: ['Ravi Kumar'] }),
      });
      const body = (await response.json()) as { number?: string };
      latencies.push(now() - sent);
      if (response.status === 201 && body.number) numbers.push(body.number);
      else if (failures.length < 5) failures.push(`${response.status} ${JSON.stringify(body).slice(0, 200)}`);
    }
  }));
  const seconds = (now() - started) / 1000;
  const rate = numbers.length / seconds;
  if (failures.length) report.problem(`${total - numbers.length} creates failed, e.g. ${failures.join('; ')}`);
  report.add({
    metric: `Creates, ${CREATE_RATE}/s offered for ${CREATE_SECONDS} s from ${CREATE_CLIENTS} clients: achieved`,
    value: round(rate, 1),
    unit: 'creates/s',
    note: `${numbers.length} of ${total} made in ${round(seconds, 1)} s; latency p50 ${ms(percentile(latencies, 50))} / p95 ${ms(percentile(latencies, 95))} ms; ${behind} sent > 100 ms late; load ${load()}`,
  });

  const month = numbers[0]?.slice(0, 4) ?? '';
  const { rows: [check] } = await r.db.query<{ n: string; distinct: string; first: number; last: number; counter: number }>(`
    SELECT count(*) AS n, count(DISTINCT number) AS distinct, min(right(number, 5)::int) AS first, max(right(number, 5)::int) AS last,
           (SELECT last_sequence FROM challan_number_counters WHERE org_id = $1 AND month = $2) AS counter
    FROM delivery_challans WHERE org_id = $1 AND left(number, 4) = $2`, [r.orgId, month]);
  const n = Number(check!.n);
  const gapFree = check!.first === 1 && check!.last === n && check!.counter === n && Number(check!.distinct) === n;
  const repeated = numbers.length - new Set(numbers).size;
  if (!gapFree || repeated) report.problem(`numbering of ${month}: ${JSON.stringify(check)}; ${repeated} numbers answered twice`);
  report.add({
    metric: `Numbering of month ${month} after the creates`,
    value: gapFree && !repeated ? 'no gap, no collision' : 'BROKEN',
    note: `${n.toLocaleString('en-US')} challans numbered 00001–${String(check!.last).padStart(5, '0')}, ${check!.distinct} distinct, counter at ${check!.counter}; the ${numbers.length} answered numbers all distinct: ${repeated === 0}`,
  });
}

export const challans: Benchmark = {
  name: 'challans',
  description: `delivery-challan register with ${ROWS.toLocaleString('en-US')} challans: search vs plain ILIKE, filtered list, CSV export, concurrent creates`,
  needsBuild: false,
  async run(report) {
    const dataDir = `${makeTempDir('vigil-bench-challans-')}/data`;
    watchPostgresOf(dataDir);
    report.log(`load average at the start: ${load()} (${os.cpus().length} cores)`);
    const vigil = startVigil('vigil (challans)', dataDir, await freePort(), { logLevel: 'warn', fromSource: true });
    await waitReady(vigil, now());
    const user = await setUpAndSignIn(vigil);
    const db = new pg.Client({ connectionString: bundledUrl(vigil), application_name: 'vigil-bench-challans' });
    await db.connect();
    const r: Run = { vigil, user, db, orgId: user.orgId };
    try {
      const { rows: [admin] } = await db.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [ADMIN.email]);
      const loaded = await loadRegister(report, db, r.orgId, admin!.id, ROWS, CUSTOMERS);
      report.add({
        metric: `Load ${ROWS.toLocaleString('en-US')} challans in SQL (${DAYS} days, ${CUSTOMERS} customers)`,
        value: round(loaded.seconds, 1),
        unit: 's',
        note: `of which rebuilding ${loaded.indexes.length} indexes ${round(loaded.indexSeconds, 1)} s; table ${loaded.tableSize}, indexes ${loaded.indexSize}; load ${load()}`,
      });
      await search(report, r);
      await filteredList(report, r);
      await sortedPages(report, r);
      await csvExport(report, r);
      await creates(report, r);
      report.log(`load average at the end: ${load()}`);
    } finally {
      await db.end();
      await stopVigil(vigil, report, 'challans');
    }
  },
};
