import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Logs a Redis outage once and its end once. ioredis emits an error at every reconnect attempt (every 2 s at
 * most) and, with no listener, writes each one to stderr; meanwhile rate limits count in each process on its own.
 */
export function logRedisOutages(redis: Redis, logger: Logger): void {
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn({ err: error }, 'Redis is unreachable: rate limits count in each process on its own until it is back');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info('Redis is back: rate limits are shared between processes again');
  });
}
