import type { Logger } from 'pino';
import type { DevicePrincipal } from '../core/access.js';
import { MessageRefused, type DeviceTopics } from '../mqtt/device-topics.js';
import { RetryLater } from '../mqtt/processor.js';
import { answerClientRequest } from './client-rpc.js';
import type { CommandDelivery } from './delivery.js';
import type { SessionLimits } from './session-limits.js';

/** ThingsBoard's RPC topics: `{id}` is the request id, an integer. */
export const RPC_REQUEST_PREFIX = 'v1/devices/me/rpc/request/';
export const RPC_RESPONSE_PREFIX = 'v1/devices/me/rpc/response/';
/** Commands written to a connection per claim (the rest follow in the next round). */
const BATCH = 20;

type Reply = (topic: string, payload: unknown) => Promise<boolean>;

function requestIdOf(topic: string): number {
  const id = Number(topic.slice(topic.lastIndexOf('/') + 1));
  if (!Number.isSafeInteger(id) || id <= 0) throw new MessageRefused('bad_request_id', 'the request id at the end of the topic is a positive integer');
  return id;
}

/**
 * Commands (RPC) on the embedded broker, ThingsBoard's way. Server-side: a device subscribed to
 * `v1/devices/me/rpc/request/+` gets its queued commands at once and new ones as they are queued (from any
 * process), and answers on `v1/devices/me/rpc/response/{id}`. Client-side: a device asks on
 * `v1/devices/me/rpc/request/{id}` and gets Vigil's answer on `v1/devices/me/rpc/response/{id}`
 * (`limits`: those of a connection to the embedded broker, for getSessionLimits).
 */
export function registerCommandTopics(topics: DeviceTopics, delivery: CommandDelivery, limits: SessionLimits, logger: Logger): void {
  // One delivery loop per connection, however often the device subscribes again.
  const connections = new WeakSet<AbortSignal>();

  topics
    .onPublish({ prefix: RPC_RESPONSE_PREFIX }, async (message) => {
      const requestId = requestIdOf(message.topic);
      // Not recorded for want of the database: unacknowledged, so the device sends its answer again.
      const answer = await delivery.answer(message.device, requestId, message.body, message.payload.length).catch((error: unknown) => {
        throw new RetryLater('the answer could not be recorded', 1000, error);
      });
      if (answer.outcome === 'unknown') {
        throw new MessageRefused('unknown_request', 'no command of this device waits for an answer with this request id (answered, timed out or not its own)');
      }
      if (answer.outcome === 'refused') throw new MessageRefused('answer_refused', `${answer.reason}; the command failed`);
      return null;
    })
    .onPublish({ prefix: RPC_REQUEST_PREFIX }, async (message) => {
      const id = requestIdOf(message.topic);
      const answer = answerClientRequest(message.body, limits);
      await message.reply(`${RPC_RESPONSE_PREFIX}${id}`, answer.ok ? answer.result : { error: answer.error });
      return null;
    })
    .allowSubscription(`${RPC_REQUEST_PREFIX}+`, async (device, reply, ended) => {
      if (connections.has(ended) || ended.aborted) return;
      connections.add(ended);
      deliverWhileConnected(device, reply, ended);
    })
    .allowSubscription(`${RPC_RESPONSE_PREFIX}+`);

  /** Writes the device's queued commands now, and again each time the bus says more were queued. */
  function deliverWhileConnected(device: DevicePrincipal, reply: Reply, ended: AbortSignal): void {
    let running = false;
    let again = false;
    let gone = false;
    const round = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          const written = await delivery.deliver(device, BATCH, async (command) => {
            const sent = !ended.aborted && (await reply(`${RPC_REQUEST_PREFIX}${command.requestId}`, { method: command.method, params: command.params }));
            // Not written (the connection closed, or the device unsubscribed): the command stays queued.
            if (!sent) {
              gone = true;
              throw new Error('the device is no longer subscribed to its commands');
            }
          });
          if (written === BATCH) again = true;
        } while (again && !ended.aborted && !gone);
      } catch (error) {
        logger.warn({ deviceId: device.deviceId, err: error }, 'mqtt: could not deliver commands');
      } finally {
        running = false;
        // Listening ends with the subscription; subscribing again starts over.
        if (gone) stop();
      }
    };
    const unlisten = delivery.listen(device.deviceId, () => void round());
    const stop = () => {
      unlisten();
      connections.delete(ended);
    };
    ended.addEventListener('abort', stop, { once: true });
    void round();
  }
}
