/**
 * `npm test`: provides a PostgreSQL server for the suite, then runs node's test runner on tests/.
 * - Without TEST_DATABASE_URL: a throwaway bundled PostgreSQL (the embedded default) in a temp folder.
 * - With TEST_DATABASE_URL: that server (e.g. the PostgreSQL 15 service); the URL's database is only
 *   used to create and drop per-run databases.
 * A template database is migrated once; every test file clones it (CREATE DATABASE … TEMPLATE).
 * The whole suite runs as a few shards, each one process importing many test files (scripts/test-shards.ts);
 * `VIGIL_TEST_RECORD_TIMINGS=1 npm test` rewrites tests/timings.json, which balances them, after a full run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { startEmbeddedPostgres } from '../src/server/core/db/embedded.js';
import { migrate } from '../src/server/core/db/migrate.js';
import { installTypeParsers } from '../src/server/core/db/types.js';
import { planShards, readTimings, timingsFromReport, TIMINGS_FILE, writeShardModules } from './test-shards.js';

/**
 * Test processes at once: three on CI's two cores, as the tests wait on servers, browsers and child processes
 * about half of their time. Each shard runs its files one after another.
 */
const CONCURRENCY = 3;
const SHARDS = 2 * CONCURRENCY;

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' });
installTypeParsers();

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function main(): Promise<number> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-test-'));
  // As root the bundled PostgreSQL runs as the "postgres" user, who must be able to enter the folder.
  fs.chmodSync(tmp, 0o755);
  let adminUrl = process.env.TEST_DATABASE_URL || undefined;
  const embedded = adminUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: tmp, password: 'test', logger, durable: false, databaseName: 'postgres' });
  adminUrl ??= embedded!.url;
  const kind = embedded ? 'bundled PostgreSQL' : 'external PostgreSQL (TEST_DATABASE_URL)';
  const template = `vigil_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const version = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  console.log(`# database: ${kind}, server ${version}`);
  try {
    await admin.query(`CREATE DATABASE ${template}`);
    const pool = new pg.Pool({ connectionString: withDatabase(adminUrl, template), max: 1 });
    await migrate(pool, logger);
    await pool.end();

    const requested = process.argv.slice(2);
    const files = requested.length
      ? requested
      : fs.readdirSync('tests').filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join('tests', f));
    const targets = files.length > 1 ? writeShardModules(planShards(files, readTimings(), SHARDS), tmp) : files;
    const timingsReport = path.join(tmp, 'timings.tsv');
    const code = await new Promise<number>((resolve) => {
      const args = [
        '--import', 'tsx', '--test', `--test-concurrency=${CONCURRENCY}`,
        '--test-reporter=spec', '--test-reporter-destination=stdout',
        '--test-reporter=./scripts/test-timings-reporter.mjs', `--test-reporter-destination=${timingsReport}`,
        ...targets,
      ];
      const child = spawn(process.execPath, args, {
        stdio: 'inherit',
        env: { ...process.env, VIGIL_TEST_ADMIN_URL: adminUrl, VIGIL_TEST_TEMPLATE: template, VIGIL_TEST_RUN: String(process.pid) },
      });
      child.on('exit', (exitCode) => resolve(exitCode ?? 1));
    });
    if (code === 0 && !requested.length && process.env.VIGIL_TEST_RECORD_TIMINGS) {
      fs.writeFileSync(TIMINGS_FILE, `${JSON.stringify(timingsFromReport(fs.readFileSync(timingsReport, 'utf8')), null, 2)}\n`);
      console.log(`# wrote ${TIMINGS_FILE}`);
    }
    return code;
  } finally {
    const leftovers = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2`,
      [template, `vigil_t_${process.pid}_%`],
    );
    for (const { datname } of leftovers.rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await embedded?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
