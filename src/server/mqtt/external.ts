import os from 'node:os';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { DeviceAuthenticator } from '../core/access.js';
import { receiveClock } from '../ingest/receive-clock.js';
import { MessageRefused, type DeviceTopics } from './device-topics.js';
import { DEVICE_TOPICS, keyHint, parseEnvelope, PayloadError, type MqttReport } from './payloads.js';
import { MessageProcessor, RetryLater, sleep, type IncomingMessage } from './processor.js';

export interface ExternalBrokerOptions {
  /** First topic level of every Vigil topic on the shared broker (default `vigil`). */
  topicPrefix?: string;
  /**
   * Vigil's client id. The session is persistent (clean = false), so the broker keeps Vigil's
   * subscriptions and queues QoS 1 messages while Vigil is away; each Vigil process needs its own,
   * stable id. Order of precedence: `?clientId=` in MQTT_URL, this option, `vigil-<hostname>`.
   */
  clientId?: string;
  /** How long start() waits for the first connection. */
  connectTimeoutMs?: number;
  /** Connections to the broker, each handling one message at a time (MQTT_BRIDGE_CONNECTIONS, default 4). */
  connections?: number;
}

export function externalTopics(prefix: string) {
  return {
    telemetry: `${prefix}/v1/telemetry`,
    events: `${prefix}/v1/events`,
    attributes: `${prefix}/v1/attributes`,
    errors: (deviceId: string) => `${prefix}/v1/errors/${deviceId}`,
  };
}

const MAX_BACKOFF_MS = 30_000;
// Every Vigil connection, of every process, subscribes in this shared-subscription group, so that the
// broker hands each message to one of them.
const SHARE_GROUP = 'vigil';

interface Connection {
  client: MqttClient;
  /** The message being handled (settled, never rejected). */
  current: Promise<void>;
}

/**
 * Vigil as a client of an external broker (Mosquitto, EMQX, HiveMQ…) shared by many devices.
 * Devices publish `{"key": "<device key>", "data": …}` on `<prefix>/v1/telemetry` or
 * `<prefix>/v1/events`; Vigil authenticates every message with its key, as on HTTP, so that which
 * tenant and device data belongs to never depends on the broker's ACLs (see docs/mqtt.md).
 *
 * mqtt.js hands a connection's messages to `handleMessage` one at a time and sends the PUBACK/PUBCOMP
 * only after it completes, so Vigil acknowledges a message only after its batch is committed. To handle
 * several messages at once, Vigil opens several connections, each subscribed through the shared
 * subscription `$share/vigil/<topic>`: the broker gives each message to one connection, of this or of
 * any other Vigil process. When the database cannot take a message, Vigil retries with backoff and
 * holds its acknowledgement meanwhile; on shutdown it stays unacknowledged and the broker redelivers it
 * to the persistent session.
 */
export class ExternalBridge {
  private readonly connections: Connection[] = [];
  private readonly topics: ReturnType<typeof externalTopics>;
  /** Each topic read on the shared broker → the device topic (embedded broker's name) whose handler stores it. */
  private readonly deviceTopicOf: Map<string, string>;
  private readonly abort = new AbortController();
  private stopping = false;

  constructor(
    private readonly url: string,
    private readonly devices: DeviceAuthenticator,
    private readonly processor: MessageProcessor,
    private readonly handlers: DeviceTopics,
    private readonly logger: Logger,
    private readonly options: ExternalBrokerOptions = {},
  ) {
    this.topics = externalTopics(options.topicPrefix ?? 'vigil');
    this.deviceTopicOf = new Map([
      [this.topics.telemetry, DEVICE_TOPICS.telemetry],
      [this.topics.events, DEVICE_TOPICS.events],
      [this.topics.attributes, 'v1/devices/me/attributes'],
    ]);
  }

  async start(): Promise<void> {
    const fromUrl = new URL(this.url).searchParams.get('clientId');
    const clientId = fromUrl ?? this.options.clientId ?? `vigil-${os.hostname()}`;
    const count = this.options.connections ?? 4;
    // The first connection keeps the plain client id, so that it takes over the session of a Vigil
    // that had one connection (and drops that session's unshared subscriptions).
    const ids = Array.from({ length: count }, (_, i) => (i === 0 ? clientId : `${clientId}-${i}`));
    const opened = await Promise.allSettled(ids.map((id, i) => this.connect(id, i === 0)));
    for (const result of opened) if (result.status === 'fulfilled') this.connections.push(result.value);
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(this.connections.splice(0).map((c) => c.client.endAsync(true).catch(noop)));
      throw failed.reason;
    }
    this.logger.info({ url: redact(this.url), clientIds: ids, topics: this.sharedTopics() }, 'mqtt bridge subscribed');
  }

  private sharedTopics(): string[] {
    return [...this.deviceTopicOf.keys()].map((topic) => `$share/${SHARE_GROUP}/${topic}`);
  }

  private async connect(clientId: string, first: boolean): Promise<Connection> {
    // mqtt.js lets a `clientId` in the URL's query win over the option, which would give every
    // connection the same id and have the broker drop each one as the next connects.
    const url = new URL(this.url);
    url.searchParams.delete('clientId');
    const client = mqtt.connect(url.toString(), {
      clientId,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 2000,
      connectTimeout: this.options.connectTimeoutMs ?? 10_000,
    });
    const connection: Connection = { client, current: Promise.resolve() };
    client.handleMessage = (packet, callback) => {
      const run = this.onMessage(packet, client);
      connection.current = run.then(noop, noop);
      run.then(() => callback(), (error: Error) => callback(error));
    };

    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`could not connect to ${redact(this.url)} in time`)), this.options.connectTimeoutMs ?? 10_000);
        client.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
        client.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
      const granted = await client.subscribeAsync(Object.fromEntries(this.sharedTopics().map((topic) => [topic, { qos: 1 as const }])));
      const refused = granted.filter((g) => g.qos !== 0 && g.qos !== 1 && g.qos !== 2);
      if (refused.length > 0) throw new Error(`the broker refused the subscription to ${refused.map((g) => g.topic).join(', ')}`);
      if (first) await client.unsubscribeAsync([...this.deviceTopicOf.keys()]);
    } catch (error) {
      await client.endAsync(true).catch(noop);
      throw new Error(`MQTT_URL: ${(error as Error).message}`, { cause: error });
    }
    client.on('error', (error) => this.logger.error({ err: error, clientId }, 'mqtt broker connection error'));
    client.on('offline', () => this.logger.warn({ url: redact(this.url), clientId }, 'mqtt broker offline; reconnecting'));
    client.on('connect', () => this.logger.info({ url: redact(this.url), clientId }, 'mqtt broker reconnected'));
    return connection;
  }

  /**
   * Batches being written commit and are acknowledged; those waiting for a retry are left
   * unacknowledged. The sessions stay subscribed, so that the broker keeps queueing messages while
   * Vigil is away (unsubscribing would let it drop them when no other Vigil process is connected);
   * the cost is that a stopped process's sessions keep taking their share until it returns (docs/mqtt.md).
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    await Promise.all(this.connections.map((c) => c.current));
    await Promise.all(this.connections.map(async ({ client }) => {
      // A graceful end flushes the last acknowledgements; do not wait long for a broker that is gone.
      await Promise.race([client.endAsync(false).catch(noop), delay(2000)]);
      if (!client.disconnected) await client.endAsync(true).catch(noop);
    }));
  }

  private async onMessage(packet: IPublishPacket, client: MqttClient): Promise<void> {
    const deviceTopic = this.deviceTopicOf.get(packet.topic);
    const handler = deviceTopic ? this.handlers.handlerOf(deviceTopic) : undefined;
    if (!deviceTopic || !handler) return; // not ours (a retained message on a wider subscription); nothing to store
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    // Reserved once: a retry after an overload gives the message's readings the same times again.
    let arrived: number | undefined;
    const message: IncomingMessage = { topic: packet.topic, payload, receivedAt: (deviceId, count) => (arrived ??= receiveClock.reserve(deviceId, count)) };

    let envelope;
    try {
      envelope = parseEnvelope(this.processor.parse(message));
    } catch (error) {
      if (!(error instanceof PayloadError)) throw error;
      // Nobody to tell: without a valid envelope the sender is unknown.
      this.logger.warn({ topic: packet.topic, code: error.code, reason: error.message }, 'mqtt message dropped');
      return;
    }

    for (let attempt = 0; ; attempt++) {
      try {
        const device = await this.authenticate(envelope.key);
        if (!device) {
          this.logger.warn({ topic: packet.topic, key: keyHint(envelope.key) }, 'mqtt message dropped: unknown or revoked device key');
          return;
        }
        // Nothing goes back to one device on a shared broker but its error reports: no replies.
        const report = await handler({ ...message, topic: deviceTopic, device, body: envelope.data, reply: async () => false })
          .catch((error: unknown) => {
            if (error instanceof MessageRefused) return { topic: packet.topic, code: error.code, message: error.message };
            throw error;
          });
        if (report) this.report(client, device.deviceId, { ...report, topic: packet.topic });
        return;
      } catch (error) {
        if (!(error instanceof RetryLater)) throw error;
        if (this.stopping) throw error;
        const wait = Math.min(MAX_BACKOFF_MS, Math.max(error.retryAfterMs, 500 * 2 ** Math.min(attempt, 6)));
        this.logger.warn({ topic: packet.topic, attempt, retryInMs: wait, err: error.cause ?? error }, 'mqtt message not stored yet; retrying before acknowledging');
        await sleep(wait, this.abort.signal);
        if (this.stopping) throw error;
      }
    }
  }

  private async authenticate(key: string) {
    try {
      return await this.devices.authenticateDevice(key);
    } catch (error) {
      throw new RetryLater('could not check the device key', 1000, error);
    }
  }

  private report(client: MqttClient, deviceId: string, report: MqttReport): void {
    const topic = this.topics.errors(deviceId);
    this.logger.warn({ deviceId, report: { ...report, rejected: report.rejected?.slice(0, 10) } }, 'mqtt message not fully stored');
    // Not awaited: the broker's PUBACK for it is read only after this message is handled. Best
    // effort: a report that cannot be published is only logged.
    client.publish(topic, JSON.stringify(report), { qos: 1 }, (error) => {
      if (error) this.logger.warn({ err: error, topic }, 'mqtt: could not publish an error report');
    });
  }
}

/** The broker URL without its password, for logs and errors. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'MQTT_URL';
  }
}

function noop(): void {}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
