import os from 'node:os';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { DeviceAuthenticator } from '../core/access.js';
import { keyHint, parseEnvelope, PayloadError, type IngestKind, type MqttReport } from './payloads.js';
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
}

export function externalTopics(prefix: string) {
  return {
    telemetry: `${prefix}/v1/telemetry`,
    events: `${prefix}/v1/events`,
    errors: (deviceId: string) => `${prefix}/v1/errors/${deviceId}`,
  };
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Vigil as a client of an external broker (Mosquitto, EMQX, HiveMQ…) shared by many devices.
 * Devices publish `{"key": "<device key>", "data": …}` on `<prefix>/v1/telemetry` or
 * `<prefix>/v1/events`; Vigil authenticates every message with its key, as on HTTP, so that which
 * tenant and device data belongs to never depends on the broker's ACLs (see docs/mqtt.md).
 *
 * Messages are handled one at a time (mqtt.js `handleMessage`, which runs before the PUBACK/PUBCOMP
 * is sent), so Vigil acknowledges a message to the broker only after its batch is committed. When the
 * database cannot take it, Vigil retries with backoff and holds the acknowledgement meanwhile; on
 * shutdown the message stays unacknowledged and the broker redelivers it to the persistent session.
 */
export class ExternalBridge {
  private client?: MqttClient;
  private readonly topics: ReturnType<typeof externalTopics>;
  private readonly abort = new AbortController();
  private current: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly url: string,
    private readonly devices: DeviceAuthenticator,
    private readonly processor: MessageProcessor,
    private readonly logger: Logger,
    private readonly options: ExternalBrokerOptions = {},
  ) {
    this.topics = externalTopics(options.topicPrefix ?? 'vigil');
  }

  async start(): Promise<void> {
    const fromUrl = new URL(this.url).searchParams.get('clientId');
    const clientId = fromUrl ?? this.options.clientId ?? `vigil-${os.hostname()}`;
    const client = mqtt.connect(this.url, {
      clientId,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 2000,
      connectTimeout: this.options.connectTimeoutMs ?? 10_000,
    });
    this.client = client;
    client.handleMessage = (packet, callback) => {
      const run = this.onMessage(packet);
      this.current = run.then(noop, noop);
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
      const granted = await client.subscribeAsync({ [this.topics.telemetry]: { qos: 1 }, [this.topics.events]: { qos: 1 } });
      const refused = granted.filter((g) => g.qos !== 0 && g.qos !== 1 && g.qos !== 2);
      if (refused.length > 0) throw new Error(`the broker refused the subscription to ${refused.map((g) => g.topic).join(', ')}`);
    } catch (error) {
      await client.endAsync(true).catch(noop);
      throw new Error(`MQTT_URL: ${(error as Error).message}`, { cause: error });
    }
    client.on('error', (error) => this.logger.error({ err: error }, 'mqtt broker connection error'));
    client.on('offline', () => this.logger.warn({ url: redact(this.url) }, 'mqtt broker offline; reconnecting'));
    client.on('connect', () => this.logger.info({ url: redact(this.url) }, 'mqtt broker reconnected'));
    this.logger.info({ url: redact(this.url), clientId, topics: [this.topics.telemetry, this.topics.events] }, 'mqtt bridge subscribed');
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    // A batch being written commits and is acknowledged; one waiting for a retry is left unacknowledged.
    await this.current;
    const client = this.client;
    if (!client) return;
    // A graceful end flushes the last acknowledgements; do not wait long for a broker that is gone.
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([client.endAsync(false).catch(noop), timeout]);
    if (!client.disconnected) await client.endAsync(true).catch(noop);
  }

  private async onMessage(packet: IPublishPacket): Promise<void> {
    const kind: IngestKind | undefined = packet.topic === this.topics.telemetry ? 'telemetry' : packet.topic === this.topics.events ? 'events' : undefined;
    if (!kind) return; // not ours (a retained message on a wider subscription); nothing to store
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const arrived = new Date().toISOString();
    const message: IncomingMessage = { topic: packet.topic, payload, receivedAt: () => arrived };

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
        const report = await this.processor.process(device, kind, message, envelope.data);
        if (report) this.report(device.deviceId, report);
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

  private report(deviceId: string, report: MqttReport): void {
    const topic = this.topics.errors(deviceId);
    this.logger.warn({ deviceId, report: { ...report, rejected: report.rejected?.slice(0, 10) } }, 'mqtt message not fully stored');
    // Not awaited: the broker's PUBACK for it is read only after this message is handled. Best
    // effort: a report that cannot be published is only logged.
    this.client?.publish(topic, JSON.stringify(report), { qos: 1 }, (error) => {
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
