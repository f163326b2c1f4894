import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import { startTestApp, type TestApp } from './helpers/app.js';
import { eventually, freePort, startRedisServer } from './helpers/process.js';

/**
 * Sign-in limits with their counters in Redis, and that Redis killed: sign-in keeps working and stays limited
 * (per process, never unlimited, never a 500), and the shared counters in Redis are used again once it is back.
 */
describe('sign-in limits during a Redis outage', { timeout: 60_000 }, () => {
  let app: TestApp;
  let redis: ChildProcess | undefined;
  let redisPort = 0;
  const PER_IP = 6;
  const logs: string[] = [];

  async function startRedis(): Promise<void> {
    redis = await startRedisServer(redisPort);
  }
  async function stopRedis(): Promise<void> {
    const running = redis!;
    running.kill('SIGKILL');
    if (running.exitCode === null && running.signalCode === null) await new Promise((resolve) => running.once('exit', resolve));
  }

  before(async () => {
    redisPort = await freePort();
    await startRedis();
    app = await startTestApp({
      redisUrl: `redis://127.0.0.1:${redisPort}`,
      rateLimits: { loginPerIp: PER_IP, loginPerAccount: 1000, loginFailuresPerClient: 1000, registerPerIp: 100, resetPerIp: 100, windowSeconds: 600 },
    }, { logger: pino({ level: 'info' }, { write: (line: string) => logs.push(line) }) });
  });
  after(async () => {
    await app?.close();
    if (redis && redis.exitCode === null && redis.signalCode === null) redis.kill('SIGKILL');
  });

  const signIn = (ip: string, email: string, password: string) => {
    const client = app.client();
    client.ip = ip;
    return client.request('POST', '/api/v1/auth/login', { email, password });
  };
  /** The sign-in counters Vigil keeps in this Redis (its keys carry the test app's prefix). */
  async function countersInRedis(): Promise<string[]> {
    const client = new Redis(redisPort, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: true });
    try {
      await client.connect();
      return await client.keys(`${app.config.redisPrefix}:rl:login-ip*`);
    } finally {
      client.disconnect();
    }
  }

  it('keeps signing people in and keeps limiting each address while Redis is down, then counts in Redis again', async () => {
    const owner = await app.owner();
    assert.equal((await signIn('10.9.0.1', owner.email, owner.password)).status, 200);
    assert.ok((await countersInRedis()).some((key) => key.endsWith('10.9.0.1')), 'with Redis up, attempts are counted in Redis');

    await stopRedis();
    assert.equal((await signIn('10.9.0.2', owner.email, owner.password)).status, 200, 'the user signs in while Redis is down');
    const statuses: number[] = [];
    for (let i = 0; i < PER_IP + 3; i++) statuses.push((await signIn('10.9.0.3', owner.email, `guess ${i}`)).status);
    assert.deepEqual(statuses, [...Array<number>(PER_IP).fill(401), 429, 429, 429], 'past the budget an address is refused, as with Redis');
    const refused = await signIn('10.9.0.3', owner.email, owner.password);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers['retry-after']) > 0, 'the refusal says when to come back');

    await startRedis();
    // ioredis reconnects on its own (backing off up to 2 s); sign-in goes on working meanwhile.
    const backInRedis = await eventually(async () => {
      assert.equal((await signIn('10.9.0.4', owner.email, owner.password)).status, 200);
      return (await countersInRedis()).some((key) => key.endsWith('10.9.0.4'));
    }, 20_000, 200);
    assert.ok(backInRedis, 'attempts are counted in Redis again once it is back');
    const said = (text: string) => logs.filter((line) => line.includes(text)).length;
    assert.equal(said('Redis is unreachable'), 1, 'the outage is logged once, not at every reconnect attempt');
    assert.equal(said('Redis is back'), 1);
  });
});
