import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Bus } from './bus.js';
import type { Config } from './config.js';
import type { Db } from './db/database.js';
import type { ReadReplica } from './db/replica.js';
import type { Mailer } from './mailer.js';
import type { MediaStorage } from './media.js';
import type { Metrics } from './metrics.js';
import type { OutboundHttp } from './outbound-http.js';
import type { Secrets } from './secrets.js';

/** The shared infrastructure every domain receives; created once per process in `server/runtime.ts`. */
export interface AppContext {
  config: Config;
  secrets: Secrets;
  db: Db;
  pool: pg.Pool;
  /** Where statistics, reports, exports and list pages read: the streaming replica, or the primary (`db`). */
  replica: ReadReplica;
  bus: Bus;
  logger: Logger;
  mailer: Mailer;
  media: MediaStorage;
  metrics: Metrics;
  /** Calls to user-chosen URLs (webhooks), held to the operator's address rules. */
  outbound: OutboundHttp;
  redis?: Redis;
}
