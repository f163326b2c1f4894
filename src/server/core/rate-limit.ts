import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import type { AppContext } from './context.js';
import { tooManyRequests } from './http/errors.js';

type RedisStore = { client: Redis; prefix: string };

/** The Redis store for rate limits when Redis is configured (shared by every replica). */
export function redisOf(ctx: AppContext) {
  return ctx.redis ? { client: ctx.redis, prefix: ctx.config.redisPrefix } : undefined;
}

/**
 * In memory, or in Redis with the same budget kept in memory as insurance: while Redis is unreachable each
 * process counts on its own (stricter than nothing, never unlimited, never an error for the user), and the shared
 * counters are used again as soon as the connection is back. `rejectIfRedisNotReady` switches at once instead of
 * waiting for ioredis's offline queue to give up; counts made during the outage stay in that process's memory.
 */
function limiter(name: string, points: number, durationSeconds: number, redis?: RedisStore): RateLimiterAbstract {
  const options = { keyPrefix: `${redis?.prefix ?? 'vigil'}:rl:${name}`, points, duration: durationSeconds };
  if (!redis) return new RateLimiterMemory(options);
  return new RateLimiterRedis({ ...options, storeClient: redis.client, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(options) });
}

const retryAfterSeconds = (msBeforeNext: number) => Math.max(1, Math.ceil(msBeforeNext / 1000));

/**
 * Counters for abuse-prone endpoints (login, sign-up, password reset). Kept in memory for one process,
 * or in Redis so that every replica counts against the same budget (per process while Redis is down).
 */
export class RateLimit {
  private readonly limiter: RateLimiterAbstract;

  constructor(name: string, points: number, durationSeconds: number, redis?: RedisStore) {
    this.limiter = limiter(name, points, durationSeconds, redis);
  }

  /** Counts one attempt; throws 429 with Retry-After once the budget is spent. */
  async consume(key: string): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw tooManyRequests(retryAfterSeconds(error.msBeforeNext));
      throw error;
    }
  }

  /** Throws 429 if the budget is already spent, without counting an attempt. */
  async check(key: string): Promise<void> {
    const state = await this.limiter.get(key);
    if (state && state.remainingPoints <= 0) throw tooManyRequests(retryAfterSeconds(state.msBeforeNext));
  }

  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}

// Long enough that an attacker who waits out each delay keeps meeting longer ones; a success forgets at once.
const FAILURE_MEMORY_SECONDS = 86_400;

/**
 * Failures per key with a wait that doubles: once a key has `freeFailures` failures, each further failure
 * makes its next attempt wait 1 s, 2 s, 4 s … up to `maxWaitSeconds`. Attempts during the wait are refused
 * (429 with Retry-After) without counting, so hammering costs the server no password hashing.
 * In memory, or in Redis so that every replica sees the same waits.
 */
export class FailureBackoff {
  private readonly failures: RateLimiterAbstract;
  private readonly waits: RateLimiterAbstract;

  constructor(name: string, private readonly freeFailures: number, private readonly maxWaitSeconds: number, redis?: RedisStore) {
    this.failures = limiter(`${name}-failures`, 1, FAILURE_MEMORY_SECONDS, redis);
    this.waits = limiter(`${name}-wait`, 1, maxWaitSeconds, redis);
  }

  /** Throws 429 while the key must still wait. */
  async check(key: string): Promise<void> {
    const wait = await this.waits.get(key);
    if (wait && wait.remainingPoints <= 0) throw tooManyRequests(retryAfterSeconds(wait.msBeforeNext));
  }

  async fail(key: string): Promise<void> {
    const counted = await this.failures.penalty(key, 1);
    const beyondFree = counted.consumedPoints - this.freeFailures;
    if (beyondFree >= 0) await this.waits.block(key, Math.min(this.maxWaitSeconds, 2 ** beyondFree));
  }

  async reset(key: string): Promise<void> {
    await Promise.all([this.failures.delete(key), this.waits.delete(key)]);
  }
}
