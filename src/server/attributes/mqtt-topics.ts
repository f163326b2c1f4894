import { deviceCall, MessageRefused, type DeviceTopics } from '../mqtt/device-topics.js';
import { attributeRequest, SHARED_UPDATES_TOPIC, type AttributesService } from './service.js';

const REQUEST_PREFIX = 'v1/devices/me/attributes/request/';
const RESPONSE_PREFIX = 'v1/devices/me/attributes/response/';

/**
 * ThingsBoard's attribute topics on the embedded broker: a device publishes its client attributes on
 * `v1/devices/me/attributes`, asks for values on `…/attributes/request/{id}` (answered on
 * `…/attributes/response/{id}`), and receives shared attribute changes on `v1/devices/me/attributes`
 * (all of them once when it subscribes, then each change).
 */
export function registerAttributeTopics(topics: DeviceTopics, attributes: AttributesService): void {
  topics
    .onPublish(SHARED_UPDATES_TOPIC, async (message) => {
      await deviceCall(() => attributes.reportClient(message.device, message.body));
      return null;
    })
    .onPublish({ prefix: REQUEST_PREFIX }, async (message) => {
      const id = message.topic.slice(REQUEST_PREFIX.length);
      if (id.includes('/')) throw new MessageRefused('invalid_topic', `the request id is one topic level: ${REQUEST_PREFIX}{id}`);
      const answer = await deviceCall(() => attributes.forDevice(message.device, requestOf(message.body)));
      await message.reply(`${RESPONSE_PREFIX}${id}`, answer);
      return null;
    })
    .allowSubscription(SHARED_UPDATES_TOPIC, async (device, reply) => {
      const shared = await attributes.sharedOf(device);
      if (Object.keys(shared).length > 0) await reply(SHARED_UPDATES_TOPIC, shared);
    })
    .allowSubscription(`${RESPONSE_PREFIX}+`);
}

/** `{"clientKeys": "a,b", "sharedKeys": "c"}`, ThingsBoard's request body. */
function requestOf(body: unknown) {
  const object = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  return attributeRequest(object.clientKeys, object.sharedKeys);
}
