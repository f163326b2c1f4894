import path from 'node:path';
import type { S3Settings } from './media.js';
import { allowListEntryProblem } from './private-networks.js';

/**
 * Configuration comes only from environment variables (optionally loaded from `.env` by the CLI).
 * Every variable is parsed by its own rule so that each bad value gets its own message, and all of
 * them are reported at once instead of one per restart.
 */
export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
  from: string;
}

export interface RateLimitConfig {
  /** Login attempts per client IP per window. */
  loginPerIp: number;
  /**
   * Failed login attempts per account per window from browsers without that account's device cookie: a ceiling
   * against guessing from many addresses. Browsers the user signed in with before are not held back by it.
   */
  loginPerAccount: number;
  /** Failed logins of one account from one client (IP, or device cookie) before each next attempt waits 1 s, 2 s, 4 s … */
  loginFailuresPerClient: number;
  /** Sign-ups per client IP per window. */
  registerPerIp: number;
  /** Password reset requests per IP (and per account) per window. */
  resetPerIp: number;
  windowSeconds: number;
}

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  databaseUrl?: string;
  databasePoolSize: number;
  /** A streaming replica that statistics, reports, exports and list pages read from; unset: everything reads the primary. */
  databaseReplicaUrl?: string;
  /** Replication lag beyond which those reads go to the primary (also how long a session's own writes are read from the primary). */
  databaseReplicaMaxLagSeconds: number;
  secretKey?: string;
  encryptionKey?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  redisUrl?: string;
  /** Namespace of Vigil's keys and channels in Redis, so several deployments can share one server. */
  redisPrefix: string;
  smtp?: SmtpConfig;
  trustProxy: boolean;
  bodyLimitBytes: number;
  sessionIdleMinutes: number;
  sessionMaxDays: number;
  rateLimits: RateLimitConfig;
  /** Requests per client IP per minute to the public community pages' API. */
  publicRateLimitPerMinute: number;
  streamHeartbeatSeconds: number;
  /** Port of the embedded MQTT broker (Aedes); off when unset. */
  mqttPort?: number;
  /** An external MQTT broker to subscribe to (mqtt:// or mqtts://). */
  mqttUrl?: string;
  /** Connections to the external broker (shared subscription), each handling one message at a time. */
  mqttBridgeConnections: number;
  /** First topic level of Vigil's topics on the external broker (several deployments on one broker). */
  mqttTopicPrefix: string;
  /** Largest MQTT packet of an accepted device on the embedded broker; unset: the ingest body limit plus room for the topic. */
  mqttMaxPacketBytes?: number;
  /** Connections to the embedded broker, per process. */
  mqttMaxConnections: number;
  /** Connections to the embedded broker whose device key has not been accepted yet. */
  mqttMaxPendingConnections: number;
  /** How long a new connection to the embedded broker may take to send its CONNECT. */
  mqttConnectTimeoutMs: number;
  /** S3-compatible media storage; local files in DATA_DIR/media when unset. */
  s3?: S3Settings;
  /** Days of raw events and telemetry the platform keeps (whole monthly partitions are dropped); unset: forever. */
  retentionDays?: number;
  /** Largest accepted photo or attachment. */
  mediaMaxBytes: number;
  /** Most pixels (width × height) of an uploaded image, checked from its header before it is decoded. */
  mediaMaxPixels: number;
  /** The YOLO detection model (ONNX) the cameras' detectors use; no file there: detection is off. */
  detectionModelPath: string;
  /** Largest accepted placeholder video of a camera. */
  cameraPlaceholderMaxBytes: number;
  /** Largest accepted proof-of-delivery file of a delivery challan. */
  challanPodMaxBytes: number;
  /** A challan this many days old without POD or submitted invoice is outstanding (list filter, weekly digest). */
  challanOutstandingDays: number;
  /** How long a worker's lease on a camera lasts unrenewed: a dead worker's cameras are taken over after it. */
  cameraLeaseSeconds: number;
  /** How often a worker renews its camera leases and rebalances its share; at most a third of the lease. */
  cameraLeaseHeartbeatSeconds: number;
  /** `vigil serve` also decodes its share of the cameras (off: only `vigil worker` processes do). */
  serveDecodesCameras: boolean;
  /** `vigil serve` also runs the background jobs (off: only `vigil worker` processes do). */
  serveRunsJobs: boolean;
  /** The ffmpeg program that decodes cameras (a name on PATH or a full path). */
  ffmpegPath: string;
  /** A camera stream that delivers no frame for this long is restarted. */
  cameraWatchdogSeconds: number;
  /** Open live views (MJPEG) of one camera on one server process; one more answers 429. */
  cameraLiveMaxViewers: number;
  /** Open live views of one user on one server process, all cameras together; one more answers 429. */
  cameraLiveMaxStreamsPerUser: number;
  /** Most items in one ingest batch. */
  ingestMaxBatch: number;
  /** Days back an item's timestamp may lie: older items are refused, each with the reason. */
  ingestMaxAgeDays: number;
  /** The console map's raster tiles: a `{z}/{x}/{y}` URL template and the attribution its provider requires. */
  mapTiles: { url: string; attribution: string };
  /** How long a report waits for the map tiles of its title page before it goes without the map. */
  reportMapTimeoutMs: number;
  /** Items accepted for writing but not yet committed, per process: beyond it, 429. */
  ingestMaxPendingItems: number;
  /** Private destinations webhooks may reach (addresses, CIDR networks, host names); none by default. */
  webhookAllowPrivate: string[];
  /** Bearer token that reads /metrics; without it /metrics answers 404 unless `metricsPublic`. */
  metricsToken?: string;
  /** Serve /metrics to anyone (a scraper on a private network that cannot send a token). */
  metricsPublic: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      this.problems.push(`${name} must be an integer between ${min} and ${max} (got "${value}")`);
      return fallback;
    }
    return parsed;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name} must be true or false (got "${value}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
      return fallback;
    }
    return value as T;
  }

  url(name: string, protocols: string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        this.problems.push(`${name} must use ${protocols.join(' or ')} (got "${parsed.protocol}")`);
        return undefined;
      }
      return value;
    } catch {
      this.problems.push(`${name} is not a valid URL`);
      return undefined;
    }
  }

  /** MQTT topic levels to put before Vigil's own: no wildcards, not a `$` system topic, no empty level. */
  topicPrefix(name: string, fallback: string): string {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (/[+#\s]/.test(value) || value.startsWith('$') || value.split('/').some((level) => level === '')) {
      this.problems.push(`${name} must be topic levels without wildcards, spaces, a leading $ or empty levels (e.g. "vigil" or "acme/vigil"; got "${value}")`);
      return fallback;
    }
    return value;
  }

  /** A tile URL template: http(s), with the {z}, {x} and {y} placeholders a slippy map fills in. */
  tileUrl(name: string, fallback: string): string {
    const value = this.url(name, ['http:', 'https:']);
    if (value === undefined) return fallback;
    if (!['{z}', '{x}', '{y}'].every((part) => value.includes(part))) {
      this.problems.push(`${name} must contain {z}, {x} and {y} (e.g. ${fallback})`);
      return fallback;
    }
    return value;
  }

  /** A list separated by commas or spaces, each entry checked by `problem`. */
  list(name: string, problem: (entry: string) => string | null): string[] {
    const entries = (this.raw(name) ?? '').split(/[\s,]+/).filter(Boolean);
    for (const entry of entries) {
      const message = problem(entry);
      if (message) this.problems.push(`${name}: ${message}`);
    }
    return entries;
  }
}

const DEFAULT_TILE_URL = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';
const DEFAULT_TILE_ATTRIBUTION = '© OpenStreetMap contributors';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadConfig(env: Env = process.env): Config {
  const r = new Reader(env);
  const port = r.int('PORT', 3000, 0, 65535);
  const host = r.string('HOST', '127.0.0.1');
  const publicUrlRaw = r.url('PUBLIC_URL', ['http:', 'https:']);
  const publicUrl = (publicUrlRaw ?? `http://localhost:${port}`).replace(/\/+$/, '');

  const secretKey = r.raw('SECRET_KEY');
  if (secretKey !== undefined && secretKey.length < 32) {
    r.problems.push('SECRET_KEY must be at least 32 characters (generate one with `openssl rand -hex 32`)');
  }
  const encryptionKey = r.raw('ENCRYPTION_KEY');
  if (encryptionKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(encryptionKey)) {
    r.problems.push('ENCRYPTION_KEY must be 64 hexadecimal characters (32 bytes; `openssl rand -hex 32`)');
  }

  const smtpHost = r.raw('SMTP_HOST');
  const smtpPort = r.int('SMTP_PORT', 587, 1, 65535);
  const smtpSecure = r.bool('SMTP_SECURE', smtpPort === 465);
  const smtpFrom = r.raw('SMTP_FROM');
  let smtp: SmtpConfig | undefined;
  if (smtpHost !== undefined) {
    if (smtpFrom === undefined) r.problems.push('SMTP_FROM is required when SMTP_HOST is set (e.g. "Vigil <vigil@example.com>")');
    smtp = {
      host: smtpHost,
      port: smtpPort,
      secure: smtpSecure,
      user: r.raw('SMTP_USER'),
      password: r.raw('SMTP_PASSWORD'),
      from: smtpFrom ?? '',
    };
  }

  const metricsToken = r.raw('METRICS_TOKEN');
  const metricsPublic = r.bool('METRICS_PUBLIC', false);
  if (metricsToken !== undefined && metricsToken.length < 16) r.problems.push('METRICS_TOKEN must be at least 16 characters (`openssl rand -hex 32`)');
  if (metricsToken !== undefined && metricsPublic) r.problems.push('set either METRICS_TOKEN (scrapers send it) or METRICS_PUBLIC=true, not both');

  const cameraLeaseSeconds = r.int('CAMERA_LEASE_SECONDS', 15, 3, 600);
  const cameraLeaseHeartbeatSeconds = r.int('CAMERA_LEASE_HEARTBEAT_SECONDS', 5, 1, 200);
  if (cameraLeaseHeartbeatSeconds * 3 > cameraLeaseSeconds) {
    r.problems.push(`CAMERA_LEASE_HEARTBEAT_SECONDS must be at most a third of CAMERA_LEASE_SECONDS (${cameraLeaseSeconds}): a worker may miss one renewal, and still stops its cameras before their lease runs out`);
  }

  const s3Bucket = r.raw('S3_BUCKET');
  const s3: S3Settings | undefined = s3Bucket
    ? {
        bucket: s3Bucket,
        region: r.string('S3_REGION', 'us-east-1'),
        endpoint: r.url('S3_ENDPOINT', ['http:', 'https:']),
        accessKeyId: r.raw('S3_ACCESS_KEY_ID'),
        secretAccessKey: r.raw('S3_SECRET_ACCESS_KEY'),
        forcePathStyle: r.bool('S3_FORCE_PATH_STYLE', false),
      }
    : undefined;

  const config: Config = {
    port,
    host,
    publicUrl,
    dataDir: path.resolve(r.string('DATA_DIR', './data')),
    databaseUrl: r.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    databasePoolSize: r.int('DATABASE_POOL_SIZE', 10, 1, 500),
    databaseReplicaUrl: r.url('DATABASE_REPLICA_URL', ['postgres:', 'postgresql:']),
    databaseReplicaMaxLagSeconds: r.int('DATABASE_REPLICA_MAX_LAG_SECONDS', 10, 1, 3600),
    secretKey,
    encryptionKey,
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    redisUrl: r.url('REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: r.string('REDIS_PREFIX', 'vigil'),
    smtp,
    trustProxy: r.bool('TRUST_PROXY', false),
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    sessionIdleMinutes: r.int('SESSION_IDLE_MINUTES', 7 * 24 * 60, 1, 365 * 24 * 60),
    sessionMaxDays: r.int('SESSION_MAX_DAYS', 30, 1, 365),
    rateLimits: {
      loginPerIp: r.int('RATE_LIMIT_LOGIN_PER_IP', 30, 1, 100000),
      loginPerAccount: r.int('RATE_LIMIT_LOGIN_PER_ACCOUNT', 100, 1, 100000),
      loginFailuresPerClient: r.int('RATE_LIMIT_LOGIN_FAILURES_PER_CLIENT', 5, 1, 100000),
      registerPerIp: r.int('RATE_LIMIT_REGISTER_PER_IP', 20, 1, 100000),
      resetPerIp: r.int('RATE_LIMIT_RESET_PER_IP', 5, 1, 100000),
      windowSeconds: r.int('RATE_LIMIT_WINDOW_SECONDS', 900, 1, 86400),
    },
    publicRateLimitPerMinute: r.int('RATE_LIMIT_PUBLIC_PER_MINUTE', 300, 1, 1_000_000),
    streamHeartbeatSeconds: r.int('STREAM_HEARTBEAT_SECONDS', 15, 1, 3600),
    mqttPort: r.raw('MQTT_PORT') === undefined ? undefined : r.int('MQTT_PORT', 1883, 0, 65535),
    mqttUrl: r.url('MQTT_URL', ['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:']),
    mqttBridgeConnections: r.int('MQTT_BRIDGE_CONNECTIONS', 4, 1, 64),
    mqttTopicPrefix: r.topicPrefix('MQTT_TOPIC_PREFIX', 'vigil'),
    mqttMaxPacketBytes: r.raw('MQTT_MAX_PACKET_BYTES') === undefined ? undefined : r.int('MQTT_MAX_PACKET_BYTES', 0, 1024, 268_435_460),
    mqttMaxConnections: r.int('MQTT_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    mqttMaxPendingConnections: r.int('MQTT_MAX_PENDING_CONNECTIONS', 1000, 1, 100_000),
    mqttConnectTimeoutMs: r.int('MQTT_CONNECT_TIMEOUT_MS', 10_000, 100, 300_000),
    s3,
    retentionDays: r.raw('RETENTION_DAYS') === undefined ? undefined : r.int('RETENTION_DAYS', 365, 31, 36500),
    mediaMaxBytes: r.int('MEDIA_MAX_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    // 40 MP: more than any radar camera or phone takes; a 16383 × 16383 image bomb (268 MP) is refused unread.
    mediaMaxPixels: r.int('MEDIA_MAX_PIXELS', 40_000_000, 10_000, 268_402_689),
    detectionModelPath: path.resolve(r.raw('DETECTION_MODEL_PATH') ?? path.join(r.string('DATA_DIR', './data'), 'models', 'ppe.onnx')),
    cameraPlaceholderMaxBytes: r.int('CAMERA_PLACEHOLDER_MAX_BYTES', 50 * 1024 * 1024, 1024, 2 * 1024 * 1024 * 1024),
    challanPodMaxBytes: r.int('CHALLAN_POD_MAX_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    challanOutstandingDays: r.int('CHALLAN_OUTSTANDING_DAYS', 7, 1, 365),
    cameraLeaseSeconds,
    cameraLeaseHeartbeatSeconds,
    serveDecodesCameras: r.bool('SERVE_DECODES_CAMERAS', true),
    serveRunsJobs: r.bool('SERVE_RUNS_JOBS', true),
    ffmpegPath: r.string('FFMPEG_PATH', 'ffmpeg'),
    cameraWatchdogSeconds: r.int('CAMERA_WATCHDOG_SECONDS', 20, 1, 3600),
    cameraLiveMaxViewers: r.int('CAMERA_LIVE_MAX_VIEWERS', 50, 1, 10_000),
    cameraLiveMaxStreamsPerUser: r.int('CAMERA_LIVE_MAX_STREAMS_PER_USER', 20, 1, 1000),
    ingestMaxBatch: r.int('INGEST_MAX_BATCH', 5000, 1, 100_000),
    // A year of a device's offline queue or of a RushRoster restore, and a month to spare.
    ingestMaxAgeDays: r.int('INGEST_MAX_AGE_DAYS', 400, 1, 36500),
    mapTiles: {
      url: r.tileUrl('MAP_TILE_URL', DEFAULT_TILE_URL),
      attribution: r.string('MAP_TILE_ATTRIBUTION', DEFAULT_TILE_ATTRIBUTION),
    },
    reportMapTimeoutMs: r.int('REPORT_MAP_TIMEOUT_MS', 3000, 100, 60_000),
    ingestMaxPendingItems: r.int('INGEST_MAX_PENDING_ITEMS', 50_000, 1, 10_000_000),
    webhookAllowPrivate: r.list('WEBHOOK_ALLOW_PRIVATE', allowListEntryProblem),
    metricsToken,
    metricsPublic,
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}

/** The configuration the test suite and tools start from: the defaults, with overrides. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({ LOG_LEVEL: 'silent' }), ...overrides };
}
