import type { Config } from '../core/config.js';
import { ingestBodyLimitBytes } from '../ingest/service.js';
import { MAX_QOS2_AWAITING_RELEASE } from '../mqtt/connectionLimits.js';
import { mqttMaxPayloadBytes } from '../mqtt/service.js';

/**
 * ThingsBoard's per-device rate limits, each a list of "count:seconds" windows ("100:1,3000:60"):
 * `messages` counts what is neither telemetry nor attributes, `telemetryMessages` telemetry and attribute
 * messages together, `telemetryDataPoints` their values. A window left out is no limit.
 */
export interface SessionRateLimits {
  messages?: string;
  telemetryMessages?: string;
  telemetryDataPoints?: string;
}

/**
 * The answer to the client-side RPC `getSessionLimits`, in the shape of ThingsBoard's `SessionLimits`: what
 * the device's connection may send. ThingsBoard's SDKs size their messages to 80 % of `maxPayloadSize`, keep at
 * most 80 % of `maxInflightMessages` unacknowledged and pace themselves to 80 % of each rate window.
 */
export interface SessionLimits {
  /** The largest payload of one message, in bytes. */
  maxPayloadSize: number;
  /** Messages the device may have sent without their acknowledgement; MQTT only. */
  maxInflightMessages?: number;
  /** Always present: both Python SDKs discard an answer without it. */
  rateLimits: SessionRateLimits;
}

/**
 * Vigil limits none of ThingsBoard's three rates per device: telemetry messages, their values and other
 * messages are taken as fast as they are committed. Its one rate limit on what a device sends, client
 * attribute messages (ATTRIBUTE_LIMITS.writesPerMinute), has no bucket of its own there: ThingsBoard and its
 * SDKs count attribute messages under `telemetryMessages`, so giving it would slow telemetry to a pace Vigil
 * does not impose. An empty object, which the SDKs read as "no limit".
 */
const DEVICE_RATE_LIMITS: SessionRateLimits = {};

/**
 * A device connected to the embedded broker: payloads up to the ingest body limit (less when
 * MQTT_MAX_PACKET_BYTES is smaller), and at most MAX_QOS2_AWAITING_RELEASE messages unacknowledged, the
 * bound Vigil enforces on QoS 2 messages (QoS 1 ones are bounded only by MQTT's 65,535 packet ids), so
 * that a device keeping to it is never cut off whatever its QoS.
 */
export function mqttSessionLimits(config: Config): SessionLimits {
  return { maxPayloadSize: mqttMaxPayloadBytes(config), maxInflightMessages: MAX_QOS2_AWAITING_RELEASE, rateLimits: DEVICE_RATE_LIMITS };
}

/**
 * A device on ThingsBoard's HTTP device API: request bodies up to the ingest body limit. HTTP has no window of
 * unacknowledged messages (each request is answered after its commit), so there is no `maxInflightMessages`.
 */
export function httpSessionLimits(config: Config): SessionLimits {
  return { maxPayloadSize: ingestBodyLimitBytes(config), rateLimits: DEVICE_RATE_LIMITS };
}
