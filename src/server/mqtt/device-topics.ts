import type { DevicePrincipal } from '../core/access.js';
import type { Bus } from '../core/bus.js';
import { AppError, type FieldError } from '../core/http/errors.js';
import { PayloadError, type MqttReport } from './payloads.js';
import { RetryLater, type IncomingMessage } from './processor.js';

/**
 * Which device topics the embedded broker accepts, and what handles them. A domain plugs a topic family
 * in without touching the broker: it registers handlers for what devices publish and the subscriptions
 * devices may make, and reaches a connected device with `sendToDevice`. For example, commands (RPC):
 *
 *   topics.onPublish({ prefix: 'v1/devices/me/rpc/response/' }, async (m) => {
 *     await commands.answered(m.device, Number(m.topic.slice(m.topic.lastIndexOf('/') + 1)), m.body);
 *     return null; // or an MqttReport when something was not stored
 *   });
 *   topics.allowSubscription('v1/devices/me/rpc/request/+');
 *   await sendToDevice(ctx.bus, deviceId, `v1/devices/me/rpc/request/${id}`, { method: 'reboot', params: {} });
 *
 * A handler runs after the device's key is checked again and before the PUBACK: the acknowledgement
 * follows whatever it committed. It throws RetryLater (mqtt/processor.ts) when nothing could be written
 * and the message must stay unacknowledged, MessageRefused when the message is refused in full (MQTT 5
 * devices get PUBACK 0x87 with the reason), or returns a report for a partial refusal (sent on
 * `v1/devices/me/errors`). Messages of one connection reach their handlers one at a time, in order.
 */
export interface DeviceMessage extends IncomingMessage {
  /** The device the key authenticated, as of this message. */
  device: DevicePrincipal;
  /** The parsed JSON payload. */
  body: unknown;
  /** Publishes to this connection only (a response topic), if it subscribed to that topic; false when nothing was written. */
  reply(topic: string, payload: unknown): Promise<boolean>;
}

export type PublishHandler = (message: DeviceMessage) => Promise<MqttReport | null>;

/**
 * Runs once a device's subscription is granted (e.g. to send it the current state). `reply` resolves false when
 * nothing was written (the connection closed or is not subscribed to that topic); `closed` aborts when the
 * connection closes (one signal per connection).
 */
export type SubscribedHandler = (device: DevicePrincipal, reply: (topic: string, payload: unknown) => Promise<boolean>, closed: AbortSignal) => Promise<void>;

/** The message was refused in full; MQTT 5 devices are told with PUBACK 0x87 and this message as the reason. */
export class MessageRefused extends PayloadError {}

type TopicMatch = string | { prefix: string };

export class DeviceTopics {
  private readonly exact = new Map<string, PublishHandler>();
  private readonly prefixes: { prefix: string; handler: PublishHandler }[] = [];
  private readonly subscriptions = new Map<string, SubscribedHandler | undefined>();

  /** `parent`'s topics are accepted too (the broker adds its own to the domains' registry). */
  constructor(private readonly parent?: DeviceTopics) {}

  /** Handles publishes on one topic, or on every topic under a prefix (`…/response/` for `…/response/{id}`). */
  onPublish(topic: TopicMatch, handler: PublishHandler): this {
    const name = typeof topic === 'string' ? topic : topic.prefix;
    if (this.handlerOf(name) || this.prefixes.some((p) => p.prefix === name)) throw new Error(`device topic ${name} is already handled`);
    if (typeof topic === 'string') this.exact.set(topic, handler);
    else this.prefixes.push({ prefix: topic.prefix, handler });
    return this;
  }

  /** Lets devices subscribe to this exact filter (wildcards as written, e.g. `v1/devices/me/rpc/request/+`). */
  allowSubscription(filter: string, onSubscribed?: SubscribedHandler): this {
    this.subscriptions.set(filter, onSubscribed);
    return this;
  }

  handlerOf(topic: string): PublishHandler | undefined {
    const own = this.exact.get(topic) ?? this.prefixes.find((p) => topic.startsWith(p.prefix) && topic.length > p.prefix.length)?.handler;
    return own ?? this.parent?.handlerOf(topic);
  }

  maySubscribe(filter: string): boolean {
    return this.subscriptions.has(filter) || (this.parent?.maySubscribe(filter) ?? false);
  }

  onSubscribedOf(filter: string): SubscribedHandler | undefined {
    return this.subscriptions.get(filter) ?? this.parent?.onSubscribedOf(filter);
  }

  /** The topics devices may publish on, for refusal messages. */
  publishTopics(): string[] {
    const own = [...this.exact.keys(), ...this.prefixes.map((p) => `${p.prefix}{id}`)];
    return [...(this.parent?.publishTopics() ?? []), ...own];
  }
}

/** Whether an MQTT topic filter (with `+` and `#`) matches a topic. */
export function topicMatches(filter: string, topic: string): boolean {
  const wanted = filter.split('/');
  const levels = topic.split('/');
  for (let i = 0; i < wanted.length; i++) {
    if (wanted[i] === '#') return true;
    if (i >= levels.length) return false;
    if (wanted[i] !== '+' && wanted[i] !== levels[i]) return false;
  }
  return wanted.length === levels.length;
}

// The bus carries messages for devices next to the browsers' live updates. A downlink has no organization
// (orgId null), which the live stream never shows to anyone (stream/service.ts visibleTo).
const DOWNLINK = 'device.downlink';

export interface Downlink {
  deviceId: string;
  topic: string;
  /** The JSON text sent as the payload. */
  payload: string;
}

/**
 * Sends a message to a device wherever it is connected: through the bus (Redis across processes), each
 * process's embedded broker hands it to that device's connections subscribed to the topic, and to no
 * other device. A device that is not connected does not get it (it asks for the state on connect).
 */
export async function sendToDevice(bus: Bus, deviceId: string, topic: string, payload: unknown): Promise<void> {
  await bus.publish({ type: DOWNLINK, orgId: null, data: { deviceId, topic, payload: JSON.stringify(payload) } });
}

export function onDownlink(bus: Bus, handler: (downlink: Downlink) => void): () => void {
  return bus.subscribe((message) => {
    if (message.type !== DOWNLINK || message.orgId !== null) return;
    const { deviceId, topic, payload } = message.data;
    if (typeof deviceId === 'string' && typeof topic === 'string' && typeof payload === 'string') handler({ deviceId, topic, payload });
  });
}

/**
 * Runs a domain service call for a device message and turns its refusals into the broker's terms: a 429
 * or a server failure leaves the message unacknowledged (RetryLater), any other 4xx refuses it in full
 * (MessageRefused, with the reasons of each field).
 */
export async function deviceCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof AppError && error.status === 429) {
      const seconds = Number((error.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds ?? 1);
      throw new RetryLater(error.message, seconds * 1000, error);
    }
    if (error instanceof AppError && error.status < 500) {
      const fields = Array.isArray(error.details) ? (error.details as FieldError[]) : [];
      const reasons = fields.length > 0 && !error.message.includes(fields[0]!.message) ? `: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}` : '';
      throw new MessageRefused(error.code, `${error.message}${reasons}`);
    }
    if (error instanceof MessageRefused || error instanceof RetryLater) throw error;
    throw new RetryLater(`the message could not be handled: ${(error as Error).message}`, 1000, error);
  }
}
