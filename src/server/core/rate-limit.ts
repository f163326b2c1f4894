import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import type { AppContext } from './context.js';
import { tooManyRequests } from './http/errors.js';

/** The Redis store for rate limits when Redis is configured (shared by every replica). */
export function redisOf(ctx: AppContext) {
  return ctx.redis ? { client: ctx.redis, prefix: ctx.config.redisPrefix } : undefined;
}

/**
 * Counters for abuse-prone endpoints (login, sign-up, password reset). Kept in memory for one process,
 * or in Redis so that every replica counts against the same budget.
 */
export class RateLimit {
  private readonly limiter: RateLimiterAbstract;

  constructor(name: string, points: number, durationSeconds: number, redis?: { client: Redis; prefix: string }) {
    const options = { keyPrefix: `${redis?.prefix ?? 'vigil'}:rl:${name}`, points, duration: durationSeconds };
    this.limiter = redis ? new RateLimiterRedis({ ...options, storeClient: redis.client }) : new RateLimiterMemory(options);
  }

  /** Counts one attempt; throws 429 with Retry-After once the budget is spent. */
  async consume(key: string): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw tooManyRequests(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
      throw error;
    }
  }

  /** Throws 429 if the budget is already spent, without counting an attempt. */
  async check(key: string): Promise<void> {
    const state = await this.limiter.get(key);
    if (state && state.remainingPoints <= 0) throw tooManyRequests(Math.max(1, Math.ceil(state.msBeforeNext / 1000)));
  }

  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}
