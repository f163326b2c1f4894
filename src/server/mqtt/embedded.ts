import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Aedes, type AedesPublishPacket, type AuthenticateError, type Client, type ConnectPacket, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { DeviceAuthenticator, DevicePrincipal } from '../core/access.js';
import type { Bus } from '../core/bus.js';
import { hashToken } from '../core/tokens.js';
import { ConnectionGate, PacketTooLarge, type ConnectionLimits } from './connectionLimits.js';
import { DeviceConnections } from './device-connections.js';
import { MessageRefused, onDownlink, type DeviceTopics } from './device-topics.js';
import { DEVICE_TOPICS, PayloadError, type MqttReport } from './payloads.js';
import { MessageProcessor, RetryLater, sleep, type IncomingMessage } from './processor.js';
import { ReceiveTimes } from './receive-times.js';

/** A connected device: its key's hash (the key is re-checked on every message, without hashing it again). */
interface Session {
  keyHash: string;
  device: DevicePrincipal;
  /** The device's messages are handled one at a time, in order. */
  queue: Promise<void>;
}

type Admission = Session | { refused: 3 | 5; reason: string };

// Every device publish is re-addressed here once handled, so that Aedes routes nothing a device sends
// (not to other devices, not to its own $SYS listeners). Nobody can subscribe to it.
const HANDLED_TOPIC = '$vigil/handled';
// How long a device's message may wait for an overloaded or unavailable database before the broker
// gives up and closes the connection without PUBACK (the device resends after reconnecting).
const RETRY_WINDOW_MS = 10_000;

// Refused connections are logged at most this often (with their count), so that a flood does not flood the log.
const REFUSAL_LOG_INTERVAL_MS = 10_000;

// The longest Session Expiry Interval an MQTT 5 device may ask for (a day), so that sessions of
// devices that never come back do not stay in memory for ever.
const SESSION_EXPIRY_LIMIT_S = 24 * 3600;

/** The embedded broker's connection limits (docs/mqtt.md, "Limits"). */
export interface BrokerLimits extends ConnectionLimits {
  /** Connections of this process, accepted or not; more are closed as they arrive. */
  maxConnections: number;
  /** How long a new connection may take to send its CONNECT. */
  connectTimeoutMs: number;
}

/**
 * A message the device may not send (an unknown topic, a revoked key). An MQTT 5 device is told on the
 * same packet: PUBACK (or PUBREC) 0x87 with this message as the reason string; `closes` also ends the
 * connection. An MQTT 3.1.1 device has no such code: its connection closes without PUBACK.
 */
class Refused extends Error {
  constructor(
    message: string,
    readonly closes = false,
  ) {
    super(message);
  }
}

// MQTT 5 DISCONNECT reason codes for a message that could not be stored (the device resends it).
const SERVER_BUSY = 0x89;
const SERVER_SHUTTING_DOWN = 0x8b;
const NOT_AUTHORIZED = 0x87;

function authError(code: 3 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

/**
 * The embedded MQTT 5 and 3.1.1 broker (Aedes). Devices connect with their key as the user name, publish on
 * the topics of the registry (device-topics.ts) and subscribe only to the filters it allows. A message is
 * handled in Aedes' `authorizePublish` hook, which runs before the broker sends PUBACK (QoS 1) or PUBREC
 * (QoS 2): the acknowledgement therefore always follows the commit. Nothing a device publishes is routed
 * by Aedes: a device receives only what Vigil addresses to its own connection.
 */
export class EmbeddedBroker {
  private broker?: Aedes;
  private server?: net.Server;
  private readonly admissions = new WeakMap<Client, Admission>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly receiveTimes = new ReceiveTimes();
  private readonly abort = new AbortController();
  private readonly gate: ConnectionGate;
  /** The connections of each device, for messages sent to it (a device may hold several). */
  private readonly connections = new DeviceConnections();
  private stopDownlinks?: () => void;
  private refusals = { count: 0, loggedAt: 0 };
  private stopping = false;

  constructor(
    private readonly devices: DeviceAuthenticator,
    private readonly processor: MessageProcessor,
    private readonly topics: DeviceTopics,
    private readonly bus: Bus,
    private readonly logger: Logger,
    private readonly limits: BrokerLimits,
  ) {
    this.gate = new ConnectionGate(limits, (reason) => this.refused(reason));
  }

  /** The bound TCP port (useful with port 0). */
  get port(): number | undefined {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  async start(port: number, host: string): Promise<void> {
    const broker = await Aedes.createBroker({
      // Client ids are namespaced with the device id below; MQTT 3.1's 23-character limit would refuse them.
      maxClientsIdLength: 512,
      connectTimeout: this.limits.connectTimeoutMs,
      // Told to MQTT 5 devices in the CONNACK; the connection gate enforces it for every version.
      maximumPacketSize: this.limits.maxPacketBytes,
      // An MQTT 5 session (what the device subscribed to) outlives its connection at most this long.
      sessionExpiryIntervalLimit: SESSION_EXPIRY_LIMIT_S,
      preConnect: (client, packet, callback) => {
        void this.admit(client, packet).then(() => callback(null, true));
      },
      authenticate: (client, _username, _password, done) => this.authenticate(client, done),
      authorizePublish: (client, packet, callback) => this.authorizePublish(client, packet, callback),
      authorizeSubscribe: (client, subscription, callback) => this.authorizeSubscribe(client, subscription, callback),
      authorizeForward: (client, packet) => this.authorizeForward(client, packet),
    });
    this.broker = broker;
    broker.on('clientReady', (client) => {
      const session = this.session(client);
      if (session) this.connections.opened(session.device.deviceId, client);
      // A resumed session's subscriptions come back without a SUBSCRIBE: their hooks run as for a new one.
      if (session) this.subscribed(client, Object.keys((client as unknown as { subscriptions: object }).subscriptions).map((topic) => ({ topic, qos: 0 })));
      this.logger.info({ clientId: client.id, deviceId: session?.device.deviceId }, 'mqtt device connected');
    });
    broker.on('clientDisconnect', (client) => {
      const session = this.session(client);
      if (session) this.connections.closed(session.device.deviceId, client);
      this.logger.info({ clientId: client.id }, 'mqtt device disconnected');
    });
    broker.on('clientError', (client, error) => this.connectionError(error, client.id));
    broker.on('connectionError', (_client, error) => this.connectionError(error));
    broker.on('subscribe', (subscriptions, client) => this.subscribed(client, subscriptions));
    this.stopDownlinks = onDownlink(this.bus, (downlink) => this.connections.deliver(downlink));

    const server = net.createServer((socket) => {
      const conn = this.gate.open(socket);
      if (conn) broker.handle(conn);
    });
    server.maxConnections = this.limits.maxConnections;
    server.on('drop', () => this.refused(`MQTT_MAX_CONNECTIONS (${this.limits.maxConnections}) connections are open`));
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      throw error;
    }
    server.on('error', (error) => this.logger.error({ err: error }, 'mqtt listener error'));
    this.logger.info({ host, port: this.port }, 'mqtt broker listening');
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    this.stopDownlinks?.();
    const server = this.server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    // Let the batches being written commit (and their PUBACKs go out) before the connections close.
    await Promise.allSettled([...this.inFlight]);
    await new Promise((resolve) => setImmediate(resolve));
    const broker = this.broker;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    await closed;
  }

  private connectionError(error: Error, clientId?: string): void {
    if (error instanceof PacketTooLarge) this.logger.warn({ clientId, reason: error.message }, 'mqtt connection over its limits; closed');
    else this.logger.debug({ clientId, err: error }, 'mqtt connection error');
  }

  private refused(reason: string): void {
    this.refusals.count++;
    const now = Date.now();
    if (now - this.refusals.loggedAt < REFUSAL_LOG_INTERVAL_MS) return;
    this.logger.warn({ reason, refused: this.refusals.count }, 'mqtt connections refused');
    this.refusals = { count: 0, loggedAt: now };
  }

  private session(client: Client | null): Session | undefined {
    const admission = client ? this.admissions.get(client) : undefined;
    return admission && 'device' in admission ? admission : undefined;
  }

  /**
   * Runs before Aedes reads the CONNECT: checks the key and namespaces the client id with the device
   * id, so that a device can neither take over nor resume another device's session.
   */
  private async admit(client: Client, packet: ConnectPacket): Promise<void> {
    // Wills are not supported: a device could otherwise have the broker publish on its behalf later.
    delete packet.will;
    const key = packet.username;
    if (!key) {
      this.admissions.set(client, { refused: 5, reason: 'the device key goes in the user name' });
      return;
    }
    try {
      const device = await this.devices.authenticateDevice(key);
      if (!device) {
        this.admissions.set(client, { refused: 5, reason: 'unknown or revoked device key' });
        return;
      }
      packet.clientId = `${device.deviceId}/${packet.clientId || randomUUID()}`;
      this.admissions.set(client, { keyHash: hashToken(key), device, queue: Promise.resolve() });
    } catch (error) {
      this.logger.error({ err: error }, 'mqtt: could not check a device key');
      this.admissions.set(client, { refused: 3, reason: 'server unavailable' });
    }
  }

  private authenticate(client: Client, done: (error: AuthenticateError | null, success: boolean | null) => void): void {
    const admission = this.admissions.get(client);
    if (admission && 'device' in admission) {
      this.gate.accept(client.conn);
      return done(null, true);
    }
    const refusal = admission ?? { refused: 5 as const, reason: 'not authorized' };
    this.logger.info({ reason: refusal.reason }, 'mqtt connection refused');
    done(authError(refusal.refused, refusal.reason), false);
  }

  private authorizeSubscribe(client: Client, subscription: Subscription, callback: (error: Error | null, subscription?: Subscription | null) => void): void {
    const session = this.session(client);
    if (session && this.topics.maySubscribe(subscription.topic)) return callback(null, subscription);
    this.logger.info({ clientId: client.id, topic: subscription.topic }, 'mqtt subscription refused');
    callback(null, null); // SUBACK 0x80 (MQTT 5: 0x87) for this topic; the connection stays up
  }

  /** Runs what a domain does once a device subscribed (e.g. send it the current state). */
  private subscribed(client: Client, subscriptions: Subscription[]): void {
    const session = this.session(client);
    if (!session) return;
    for (const { topic } of subscriptions) {
      const onSubscribed = this.topics.onSubscribedOf(topic);
      if (!onSubscribed) continue;
      onSubscribed(session.device, (replyTopic, payload) => this.connections.sendTo(client, replyTopic, JSON.stringify(payload)), this.connections.closedSignal(client)).catch((error: unknown) =>
        this.logger.warn({ clientId: client.id, topic, err: error }, 'mqtt: could not answer a subscription'));
    }
  }

  /** Only what Vigil addressed to a connection reaches it (device publishes are re-addressed to HANDLED_TOPIC). */
  private authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    const target = (packet as { clientId?: string }).clientId;
    return packet.topic !== HANDLED_TOPIC && target === client.id ? packet : null;
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void {
    const session = this.session(client);
    if (!client || !session) return callback(new Error('not authenticated'));
    if (this.stopping) return this.unacknowledged(client, new Error('the broker is shutting down'), callback);
    packet.retain = false;
    // A connection's messages are written at once (those of one socket read share a statement) but
    // acknowledged in the order they came: PUBACKs keep their order, and each follows its own commit.
    const written = this.handle(client, session, packet);
    written.catch(noop); // its failure is handled in order, below
    const run = session.queue.then(() => written);
    session.queue = run.then(noop, noop);
    this.inFlight.add(run);
    run.then(
      () => {
        this.inFlight.delete(run);
        packet.topic = HANDLED_TOPIC;
        callback(null); // now Aedes sends PUBACK / PUBREC
      },
      (error: unknown) => {
        this.inFlight.delete(run);
        const failure = error instanceof Error ? error : new Error(String(error));
        if (!(failure instanceof Refused)) return this.unacknowledged(client, failure, callback);
        callback(failure); // MQTT 5: PUBACK 0x87 with the reason, written before the DISCONNECT below
        if (failure.closes) client.disconnect({ reasonCode: NOT_AUTHORIZED, properties: { reasonString: failure.message } });
      },
    );
  }

  /** A message that was not stored: the connection closes without PUBACK, and the device resends it after reconnecting. */
  private unacknowledged(client: Client, failure: Error, callback: (error?: Error | null) => void): void {
    if (client.version !== 5) return callback(failure); // Aedes closes an MQTT 3.1.1 connection on a failed authorizePublish
    // Aedes would answer an MQTT 5 device with PUBACK 0x87, which says that the message was refused: close first, with a reason.
    client.disconnect({ reasonCode: this.stopping ? SERVER_SHUTTING_DOWN : SERVER_BUSY }, () => callback(failure));
  }

  private async handle(client: Client, session: Session, packet: PublishPacket): Promise<void> {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const message: IncomingMessage = {
      topic: packet.topic,
      messageId: packet.qos > 0 ? packet.messageId : undefined,
      payload,
      receivedAt: this.receiveTimes.of(client.id, packet, payload),
    };
    const handler = this.topics.handlerOf(packet.topic);
    if (!handler) {
      const refusal = new PayloadError('unknown_topic', `devices publish on ${this.topics.publishTopics().join(', ')} only`);
      await this.report(client, MessageProcessor.reportOf(message, refusal));
      if (client.version === 5) throw new Refused(refusal.message);
      return;
    }
    let body: unknown;
    try {
      body = this.processor.parse(message);
    } catch (error) {
      if (error instanceof PayloadError) return this.report(client, MessageProcessor.reportOf(message, error));
      throw error;
    }
    const reply = (topic: string, answer: unknown) => this.connections.sendTo(client, topic, JSON.stringify(answer));

    const deadline = Date.now() + RETRY_WINDOW_MS;
    for (;;) {
      try {
        // Checked on every message, as on HTTP: a revoked key stops working at once, a moved device
        // writes to its new site, and the device's last contact stays current.
        const device = await this.refresh(session);
        if (!device) {
          await this.report(client, { topic: message.topic, messageId: message.messageId, code: 'unauthorized', message: 'the device key was revoked' });
          throw new Refused('the device key was revoked', true);
        }
        const report = await handler({ ...message, device, body, reply });
        if (report) await this.report(client, report);
        return;
      } catch (error) {
        if (error instanceof MessageRefused) {
          await this.report(client, MessageProcessor.reportOf(message, error));
          if (client.version === 5) throw new Refused(error.message);
          return;
        }
        if (!(error instanceof RetryLater)) throw error;
        if (this.stopping || Date.now() + error.retryAfterMs > deadline) {
          this.logger.warn({ clientId: client.id, deviceId: session.device.deviceId, err: error.cause ?? error }, 'mqtt message not stored; closing the connection without PUBACK');
          throw error;
        }
        await sleep(error.retryAfterMs, this.abort.signal);
      }
    }
  }

  private async refresh(session: Session): Promise<DevicePrincipal | null> {
    try {
      const device = await this.devices.authenticateDeviceByHash(session.keyHash);
      if (device) session.device = device;
      return device;
    } catch (error) {
      throw new RetryLater('could not check the device key', 1000, error);
    }
  }

  /** Logs the problem and, when the device subscribed to its errors topic, tells it. */
  private async report(client: Client, report: MqttReport): Promise<void> {
    const deviceId = this.session(client)?.device.deviceId;
    this.logger.warn({ clientId: client.id, deviceId, report: { ...report, rejected: report.rejected?.slice(0, 10) } }, 'mqtt message not fully stored');
    await this.connections.sendTo(client, DEVICE_TOPICS.errors, JSON.stringify(report));
  }
}

function noop(): void {}
