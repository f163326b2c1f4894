/**
 * The Vigil server as the benchmarks run it: the built server started with the default configuration
 * (the caller's environment cleared of Vigil's variables), readiness, first-run setup, devices, and an
 * orderly stop that reports what the server logged.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DeviceRef } from '../src/server/ingest/store.js';
import { type Child, now, pollUntil, type Reporter, ROOT, round, startChild, stopChild, tryFetch } from './lib.js';

export const ADMIN = { email: 'bench-admin@example.com', password: 'bench-password-0123', name: 'Bench Admin', organizationName: 'Bench Org' };
const START_DEADLINE_MS = 180_000;
const STOP_DEADLINE_MS = 60_000;

/** Every variable loadConfig reads (and libpq's PG*): dropped from the caller's environment, so the defaults are measured. */
export const CONFIG_VARIABLES =
  /^(PORT|HOST|PUBLIC_URL|DATA_DIR|DATABASE_URL|DATABASE_POOL_SIZE|SECRET_KEY|ENCRYPTION_KEY|LOG_LEVEL|REDIS_\w+|SMTP_\w+|TRUST_PROXY|BODY_LIMIT_BYTES|SESSION_\w+|RATE_LIMIT_\w+|STREAM_HEARTBEAT_SECONDS|VIGIL_PASSWORD|MQTT_\w+|MEDIA_\w+|INGEST_\w+|PG[A-Z]+)$/;


export interface Vigil {
  child: Child;
  base: string;
  dataDir: string;
  /** Warnings and errors seen on stdout (pino JSON, level ≥ 40), counted on the stream: the kept stdout is capped. */
  logged: { count: number; examples: string[] };
}

export interface VigilOptions {
  logLevel: string;
  databaseUrl?: string;
  /** Run with --cpu-prof into this folder. */
  profileDir?: string;
  /** Configuration beyond the defaults (e.g. MQTT_PORT). */
  env?: Record<string, string>;
  /** Run the TypeScript sources through tsx instead of the build (no `npm run build` needed; same code at steady state). */
  fromSource?: boolean;
}

/** Starts the built server (`node bin/vigil.js serve`, what `npm start` runs) with the default configuration. */
export function startVigil(label: string, dataDir: string, port: number, options: VigilOptions): Vigil {
  const { logLevel, databaseUrl, profileDir } = options;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!CONFIG_VARIABLES.test(key)) env[key] = value;
  Object.assign(env, { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: logLevel, ...options.env });
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  // cwd outside the repository, so that a developer's .env cannot change what is measured.
  const entry = options.fromSource ? ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'src', 'server', 'cli.ts')] : [path.join(ROOT, 'bin', 'vigil.js')];
  const child = startChild(label, process.execPath, [...nodeArgs, ...entry, 'serve'], { cwd: path.dirname(dataDir), env });
  const logged = { count: 0, examples: [] as string[] };
  let partial = '';
  child.process.stdout?.on('data', (data: string) => {
    const lines = (partial + data).split('\n');
    partial = lines.pop() ?? '';
    if (partial.length > 100_000) partial = '';
    for (const line of lines) {
      if (!/^\{"level":(4|5|6)\d,/.test(line)) continue;
      logged.count += 1;
      if (logged.examples.length < 10) logged.examples.push(line.slice(0, 600));
    }
  });
  return { child, base: `http://127.0.0.1:${port}`, dataDir, logged };
}

export const exitReason = (child: Child) => () =>
  child.exited ? `${child.label} exited (code ${child.exited.code}, signal ${child.exited.signal}):\n${tail(child)}` : undefined;

function tail(child: Child, lines = 30): string {
  return `${child.stdout}\n${child.stderr}`.trim().split('\n').slice(-lines).join('\n');
}

export async function waitReady(vigil: Vigil, started: number): Promise<number> {
  return pollUntil(
    `${vigil.child.label}: GET /ready`,
    async () => ((await tryFetch(`${vigil.base}/ready`, {}, 1000))?.status === 200 ? now() - started : undefined),
    { deadlineMs: START_DEADLINE_MS, intervalMs: 50, abort: exitReason(vigil.child) },
  );
}

export async function stopVigil(vigil: Vigil, report: Reporter, label: string): Promise<void> {
  const stopped = await stopChild(vigil.child, 'SIGTERM', STOP_DEADLINE_MS);
  report.log(`${label}: Vigil stopped on SIGTERM in ${round(stopped.ms, 0)} ms (exit ${stopped.code ?? stopped.signal})`);
  if (stopped.killed) report.problem(`${label}: Vigil did not exit within ${STOP_DEADLINE_MS / 1000} s of SIGTERM; it was SIGKILLed`);
  else if (stopped.code !== 0) report.problem(`${label}: Vigil exited with ${stopped.code ?? stopped.signal} on SIGTERM`);
  for (const line of vigil.logged.examples) report.problem(`${label}: Vigil logged: ${line}`);
  if (vigil.logged.count > vigil.logged.examples.length) report.problem(`${label}: Vigil logged ${vigil.logged.count - vigil.logged.examples.length} more warnings/errors`);
  const stderr = vigil.child.stderr.trim();
  if (stderr) report.problem(`${label}: Vigil wrote to stderr:\n${stderr.split('\n').slice(0, 20).join('\n')}`);
}

export async function api(vigil: Vigil, method: string, url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await tryFetch(`${vigil.base}${url}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  }, 30_000);
  if (!response) throw new Error(`${method} ${url}: no answer`);
  return response;
}

export interface Device {
  ref: DeviceRef;
  apiKey: string;
}

export interface SignedIn {
  cookie: string;
  csrfToken: string;
  orgId: string;
}

/** First-run setup with the one-time link on stdout, then sign-in. */
export async function setUpAndSignIn(vigil: Vigil): Promise<SignedIn> {
  const token = await pollUntil('setup link on stdout', async () => {
    const match = /\/setup\?token=(\S+)/.exec(vigil.child.stdout);
    return match ? decodeURIComponent(match[1]!) : undefined;
  }, { deadlineMs: 30_000, abort: exitReason(vigil.child) });
  const setup = await api(vigil, 'POST', '/api/v1/setup', { token, ...ADMIN });
  if (setup.status !== 201) throw new Error(`POST /api/v1/setup answered ${setup.status}: ${await setup.text()}`);

  const login = await api(vigil, 'POST', '/api/v1/auth/login', { email: ADMIN.email, password: ADMIN.password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('vigil_session='));
  if (!cookie) throw new Error(`login set no vigil_session cookie: ${login.headers.getSetCookie().join(' / ')}`);
  const me = (await login.json()) as { csrfToken: string | null; organization: { id: string } | null };
  if (!me.csrfToken || !me.organization) throw new Error(`login answered no csrfToken or organization: ${JSON.stringify(me)}`);
  return { cookie, csrfToken: me.csrfToken, orgId: me.organization.id };
}

/** Registers a device through the API; answers its reference and its key. */
export async function createDevice(vigil: Vigil, user: SignedIn, device: Record<string, unknown>): Promise<Device> {
  const created = await api(vigil, 'POST', '/api/v1/devices', device, { cookie: user.cookie, 'x-csrf-token': user.csrfToken });
  if (created.status !== 201) throw new Error(`POST /api/v1/devices answered ${created.status}: ${await created.text()}`);
  const body = (await created.json()) as { device: { id: string; siteId: string | null }; apiKey: string };
  return { ref: { orgId: user.orgId, deviceId: body.device.id, siteId: body.device.siteId }, apiKey: body.apiKey };
}

/** The bundled PostgreSQL's URL: port from Vigil's info log (else postmaster.pid), password from secrets.json. */
export function bundledUrl(vigil: Vigil): string {
  let port: number | undefined;
  for (const line of vigil.child.stdout.split('\n')) {
    if (!line.includes('bundled PostgreSQL is running on loopback')) continue;
    port = (JSON.parse(line) as { port?: number }).port;
  }
  if (!port) port = Number(fs.readFileSync(path.join(vigil.dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[3]);
  const secrets = JSON.parse(fs.readFileSync(path.join(vigil.dataDir, 'secrets.json'), 'utf8')) as { embeddedDatabasePassword: string };
  return `postgres://postgres:${encodeURIComponent(secrets.embeddedDatabasePassword)}@127.0.0.1:${port}/vigil`;
}
