import path from 'node:path';
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import { createBus } from './core/bus.js';
import type { Config } from './core/config.js';
import type { AppContext } from './core/context.js';
import { openDatabase } from './core/db/database.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './core/db/embedded.js';
import { migrate } from './core/db/migrate.js';
import { openReadReplica } from './core/db/replica.js';
import { JobRunner } from './core/jobs.js';
import { Mailer } from './core/mailer.js';
import { LocalMediaStorage, S3MediaStorage } from './core/media.js';
import { createMetrics } from './core/metrics.js';
import { OutboundHttp } from './core/outbound-http.js';
import { logRedisOutages } from './core/redis-outages.js';
import { loadSecrets } from './core/secrets.js';
import { buildApp } from './app.js';
import { CameraLeaseManager } from './cameras/leases/manager.js';
import { MqttService } from './mqtt/service.js';
import { createServices } from './services.js';

export interface RuntimeOptions {
  logger?: Logger;
  /** Run the periodic background jobs in this process (serve and worker do; tests call ticks themselves). */
  jobs?: boolean;
  /** Skip fsync on the bundled PostgreSQL (throwaway test clusters only). */
  durableEmbedded?: boolean;
  /**
   * Listen for devices on MQTT_PORT (default true). `vigil worker` does not: devices connect to the
   * serving processes, as over HTTP; a worker still takes its share of an external broker (MQTT_URL).
   */
  mqttBroker?: boolean;
  /** Hold a share of the cameras through leases and decode them (vigil worker; vigil serve unless SERVE_DECODES_CAMERAS=false). */
  cameras?: boolean;
}

/**
 * Brings up one Vigil process: secrets, the database (bundled or external) with migrations, the bus,
 * the services and the HTTP app. `close()` takes it all down in reverse order.
 */
export async function startRuntime(config: Config, options: RuntimeOptions = {}) {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const secrets = loadSecrets(config);
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      password: secrets.embeddedDatabasePassword,
      logger,
      durable: options.durableEmbedded,
    });
    databaseUrl = embedded.url;
  }
  const database = openDatabase(databaseUrl, config.databasePoolSize);
  const closers: (() => Promise<unknown>)[] = [async () => embedded?.stop(), () => database.close()];
  try {
    await migrate(database.pool, logger);
    const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 3 }) : undefined;
    if (redis) {
      logRedisOutages(redis, logger);
      closers.push(async () => redis.disconnect());
    }
    const bus = await createBus(config.redisUrl, config.redisPrefix);
    closers.push(() => bus.close());
    const metrics = createMetrics();
    const replica = openReadReplica(database, {
      url: config.databaseReplicaUrl, poolSize: config.databasePoolSize, maxLagSeconds: () => config.databaseReplicaMaxLagSeconds, registry: metrics.registry, logger,
    });
    closers.push(() => replica.close());
    // Reads start on the replica only once a check has found it close enough.
    await replica.check();
    replica.start();
    const ctx: AppContext = {
      config,
      secrets,
      db: database.db,
      pool: database.pool,
      replica,
      bus,
      logger,
      mailer: new Mailer(logger, config.smtp),
      media: config.s3 ? new S3MediaStorage(config.s3) : new LocalMediaStorage(path.join(config.dataDir, 'media')),
      metrics,
      outbound: new OutboundHttp(config.webhookAllowPrivate),
      redis,
    };
    const services = createServices(ctx);
    await services.ingest.preparePartitions();
    closers.push(() => services.alerting.notifier.idle());
    closers.push(async () => services.stream.close());
    closers.push(async () => services.commandDelivery.close());
    closers.push(() => services.live.close());
    // The decoders' ffmpeg children end before the database their status is written to.
    closers.push(() => services.decoders.close());
    // Detection stops before the decoders whose frames it reads (closers run in reverse).
    closers.push(() => services.detection.close());
    const { app, routes } = await buildApp(ctx, services);
    closers.push(() => app.close());
    // Before the app closes (closers run in reverse): waiting command calls and polls answer now instead of holding it open.
    closers.push(async () => {
      services.commands.close();
      services.commandPolls.close();
    });
    // Closers run in reverse: MQTT stops before the HTTP app and the database, so batches in flight commit.
    const mqtt = new MqttService(ctx, services.devices, services.ingest, { embeddedBroker: options.mqttBroker ?? true, topics: services.deviceTopics });
    closers.push(() => mqtt.stop());
    await mqtt.start();
    const jobs = new JobRunner(database.pool, logger);
    jobs.register('device-offline', 30_000, () => services.devices.announceOffline());
    jobs.register('rollups', 1000, () => services.rollups.foldPending());
    jobs.register('traffic-day-zones', 60_000, (signal) => services.traffic.rekeyDayZones(signal));
    jobs.register('partitions-ahead', 6 * 3_600_000, () => services.ingest.preparePartitions());
    jobs.register('retention', 3_600_000, () => services.retention.run());
    jobs.register('alert-timers', 15_000, () => services.alerting.timers.run());
    jobs.register('alert-notifications', 5_000, () => services.alerting.notifier.deliverDue());
    jobs.register('alert-digests', 30_000, () => services.alerting.digests.sendDue());
    jobs.register('maintenance-reminders', 15 * 60_000, () => services.maintenance.sendReminders());
    jobs.register('maintenance-files', 10 * 60_000, () => services.maintenanceAttachments.purgeDeletedFiles());
    jobs.register('challan-purge', 3_600_000, () => services.challanRecords.purgeDeleted());
    jobs.register('challan-digests', 15 * 60_000, () => services.challanRecords.sendWeeklyDigests());
    jobs.register('reports', 2_000, () => services.reportRunner.runQueued());
    jobs.register('report-schedules', 30_000, () => services.scheduleDelivery.runDue());
    jobs.register('command-deadlines', 15_000, () => services.commands.closeOverdue());
    closers.push(() => jobs.stop());
    if (options.jobs) jobs.start();
    const cameraLeases = new CameraLeaseManager({ db: database.db, logger, registry: ctx.metrics.registry, bus }, services.detection.withDecoders(services.decoders), {
      ttlMs: config.cameraLeaseSeconds * 1000, heartbeatMs: config.cameraLeaseHeartbeatSeconds * 1000,
    });
    // First to close: decoders stop and leases are given back while the database is still there.
    closers.push(() => cameraLeases.stop());
    if (options.cameras) cameraLeases.start();
    return {
      ctx,
      services,
      app,
      routes,
      jobs,
      mqtt,
      cameraLeases,
      databaseUrl,
      async close() {
        for (const close of closers.reverse()) await close();
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
}

export type Runtime = Awaited<ReturnType<typeof startRuntime>>;
