import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino, { type Logger } from 'pino';
import { testConfig, type Config } from '../../src/server/core/config.js';
import { startRuntime, type Runtime } from '../../src/server/runtime.js';
import type { Role } from '../../src/shared/roles.js';

/**
 * A real Vigil runtime on its own database, cloned from the migrated template that `npm test`
 * (scripts/test.ts) prepares on the bundled PostgreSQL or on TEST_DATABASE_URL.
 */
export interface TestApp {
  runtime: Runtime;
  config: Config;
  databaseUrl: string;
  client(): ApiClient;
  /** The platform administrator (the first user; owns the "Platform" organization), signed in. */
  superadmin: SignedIn;
  /** Creates a (non-superadmin) user owning a new organization, signed in. */
  owner(orgName?: string): Promise<SignedIn>;
  /** Invites a new member into the owner's organization through the real invitation flow, signed in. */
  member(owner: SignedIn, role: Role, siteIds?: string[]): Promise<SignedIn>;
  /** Folds every committed batch into the hourly rollups, as a rollup read through the API does first. */
  settleRollups(): Promise<void>;
  close(): Promise<void>;
}

export interface SignedIn {
  client: ApiClient;
  userId: string;
  orgId: string;
  email: string;
  password: string;
}

const PASSWORD = 'correct horse battery';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite with \`npm test\``);
  return value;
}

export async function createTestDatabase(): Promise<string> {
  const adminUrl = requireEnv('VIGIL_TEST_ADMIN_URL');
  const name = `vigil_t_${requireEnv('VIGIL_TEST_RUN')}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${requireEnv('VIGIL_TEST_TEMPLATE')}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropTestDatabase(url: string): Promise<void> {
  const admin = new pg.Client({ connectionString: requireEnv('VIGIL_TEST_ADMIN_URL') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
  await admin.end();
}

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}${counter}.${randomBytes(3).toString('hex')}@example.com`;
}

/** Map tiles at an address that fails at once, as on a machine without internet (every test app's default). */
export const OFFLINE_TILES = { url: 'https://tiles.invalid/{z}/{x}/{y}.png', attribution: 'Test tiles' };

/** `logger`: to read what the server logs (e.g. that a secret never appears); silent by default. */
export async function startTestApp(overrides: Partial<Config> = {}, options: { logger?: Logger } = {}): Promise<TestApp> {
  const databaseUrl = await createTestDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-app-'));
  // Tests sign in often from one address; the rate-limit tests pass their own, small limits.
  const rateLimits = { loginPerIp: 10_000, loginPerAccount: 1000, loginFailuresPerClient: 1000, registerPerIp: 10_000, resetPerIp: 1000, windowSeconds: 60 };
  const redisPrefix = `vigil-test-${randomBytes(4).toString('hex')}`;
  // Fixtures carry fixed dates (RushRoster uploads of 2025…) that would age out of INGEST_MAX_AGE_DAYS as
  // the calendar moves on; the window's own tests pass the default.
  const ingestMaxAgeDays = 36_500;
  const config = testConfig({ databaseUrl, dataDir, rateLimits, redisUrl: process.env.TEST_REDIS_URL || undefined, redisPrefix, mapTiles: OFFLINE_TILES, ingestMaxAgeDays, ...overrides });
  const runtime = await startRuntime(config, { logger: options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
  const app: TestApp = {
    superadmin: undefined as unknown as SignedIn,
    runtime,
    config,
    databaseUrl,
    client: () => new ApiClient(runtime),
    async owner(orgName = 'Acme Traffic') {
      const email = uniqueEmail('owner');
      const created = await runtime.services.setup.createUserWithOrganization(
        { email, name: 'Olive Owner', password: PASSWORD, organizationName: `${orgName} ${randomBytes(2).toString('hex')}` },
        { userId: null, label: 'test', ip: null, userAgent: null },
      );
      const client = app.client();
      const login = await client.login(email, PASSWORD);
      if (login.status !== 200) throw new Error(`owner login failed: ${JSON.stringify(login.body)}`);
      return { client, userId: created.user.id, orgId: created.organization.id, email, password: PASSWORD };
    },
    async member(owner, role, siteIds) {
      const email = uniqueEmail(role);
      const invitation = await owner.client.post('/api/v1/invitations', { email, role, siteIds });
      if (invitation.status !== 201) throw new Error(`invitation failed: ${JSON.stringify(invitation.body)}`);
      const token = new URL(invitation.body.inviteUrl).searchParams.get('token')!;
      const client = app.client();
      const joined = await client.register({ invitationToken: token });
      if (joined.status !== 201) throw new Error(`registration failed: ${JSON.stringify(joined.body)}`);
      await client.login(email, PASSWORD);
      return { client, userId: joined.body.user.id, orgId: owner.orgId, email, password: PASSWORD };
    },
    async settleRollups() {
      await runtime.services.rollups.settle('events');
      await runtime.services.rollups.settle('telemetry');
    },
    async close() {
      await runtime.close();
      await dropTestDatabase(databaseUrl);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  // The first user ever becomes the platform administrator; create it so that owners are ordinary users.
  app.superadmin = await app.owner('Platform');
  return app;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read response bodies field by field
export interface Response<T = any> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | number | undefined>;
}

/** An HTTP client over `app.inject` that behaves like a browser: keeps the cookie, sends the CSRF header. */
export class ApiClient {
  cookie?: string;
  csrf?: string;
  bearer?: string;
  orgId?: string;
  ip = '10.0.0.1';

  constructor(private readonly runtime: Runtime) {}

  async login(email: string, password: string): Promise<Response> {
    const response = await this.request('POST', '/api/v1/auth/login', { email, password });
    if (response.status === 200) this.csrf = response.body.csrfToken;
    return response;
  }

  /** Joins with an invitation link or registration code, then signs in. */
  async register(body: Record<string, unknown>): Promise<Response> {
    return this.request('POST', '/api/v1/auth/register', { name: 'New Member', password: PASSWORD, ...body });
  }

  get = (url: string) => this.request('GET', url);
  post = (url: string, body?: unknown) => this.request('POST', url, body);
  patch = (url: string, body?: unknown) => this.request('PATCH', url, body);
  put = (url: string, body?: unknown) => this.request('PUT', url, body);
  delete = (url: string) => this.request('DELETE', url);

  async request(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const response = await this.runtime.app.inject({
      method: method as 'GET',
      url,
      payload: body === undefined ? undefined : (body as object),
      remoteAddress: this.ip,
      headers: {
        ...(this.cookie && { cookie: this.cookie }),
        ...(this.csrf && method !== 'GET' && { 'x-csrf-token': this.csrf }),
        ...(this.bearer && { authorization: `Bearer ${this.bearer}` }),
        ...(this.orgId && { 'x-vigil-org': this.orgId }),
        ...headers,
      },
    });
    const setCookie = response.cookies.find((c) => c.name === 'vigil_session');
    if (setCookie) this.cookie = setCookie.value ? `vigil_session=${setCookie.value}` : undefined;
    const type = String(response.headers['content-type'] ?? '');
    return {
      status: response.statusCode,
      body: type.includes('json') ? response.json() : response.body,
      headers: response.headers,
    };
  }
}

export { PASSWORD };
