import type { Logger } from 'pino';
import type { DeviceAuthenticator } from '../core/access.js';
import type { Config } from '../core/config.js';
import type { AppContext } from '../core/context.js';
import { ingestBodyLimitBytes } from '../ingest/service.js';
import { DeviceTopics } from './device-topics.js';
import { EmbeddedBroker, type BrokerLimits } from './embedded.js';
import { ExternalBridge, type ExternalBrokerOptions } from './external.js';
import { DEVICE_TOPICS } from './payloads.js';
import { MessageProcessor, type MqttIngest } from './processor.js';

// A CONNECT carries a client id, the key and a password Vigil ignores: a few hundred bytes in practice.
const BYTES_BEFORE_ACCEPT = 16 * 1024;
// Room in a packet for its headers and topic on top of the payload limit (MQTT topics are at most 64 KiB).
const PACKET_HEADROOM_BYTES = 64 * 1024 + 16;
// Room in a packet for what surrounds the payload of a message on Vigil's device topics: the fixed header
// (at most 5 bytes), the topic's length (2) and the topic (under 64 bytes, a request id included), the
// packet id (2) and MQTT 5's property length (up to 4) with a few properties.
const PUBLISH_ROOM_BYTES = 128;

/** The largest packet an accepted device may send to the embedded broker (MQTT_MAX_PACKET_BYTES). */
export function mqttMaxPacketBytes(config: Config): number {
  return config.mqttMaxPacketBytes ?? ingestBodyLimitBytes(config) + PACKET_HEADROOM_BYTES;
}

/**
 * The largest payload a device may publish on the embedded broker: the ingest body limit, or less when
 * MQTT_MAX_PACKET_BYTES leaves less room once the packet's header and topic are counted.
 */
export function mqttMaxPayloadBytes(config: Config): number {
  return Math.min(ingestBodyLimitBytes(config), mqttMaxPacketBytes(config) - PUBLISH_ROOM_BYTES);
}

export interface MqttServiceOptions extends ExternalBrokerOptions {
  /** Run the embedded broker when MQTT_PORT is set (default true). */
  embeddedBroker?: boolean;
  /** The device topics the domains handle (attributes, commands), besides telemetry and events. */
  topics?: DeviceTopics;
}

/**
 * MQTT ingestion for devices (docs/mqtt.md). With MQTT_PORT, an embedded broker that devices connect
 * to with their key; with MQTT_URL, a client of an external broker shared by many devices. Both may
 * run at once; neither runs when both are unset.
 */
export class MqttService {
  private readonly logger: Logger;
  private readonly processor: MessageProcessor;
  private readonly topics: DeviceTopics;
  private embedded?: EmbeddedBroker;
  private external?: ExternalBridge;

  constructor(
    private readonly ctx: AppContext,
    private readonly devices: DeviceAuthenticator,
    ingest: MqttIngest,
    private readonly options: MqttServiceOptions = {},
  ) {
    this.logger = ctx.logger.child({ module: 'mqtt' });
    this.processor = new MessageProcessor(ingest, ctx.config);
    this.topics = new DeviceTopics(options.topics)
      .onPublish(DEVICE_TOPICS.telemetry, (m) => this.processor.process(m.device, 'telemetry', m, m.body))
      .onPublish(DEVICE_TOPICS.events, (m) => this.processor.process(m.device, 'events', m, m.body))
      .allowSubscription(DEVICE_TOPICS.errors);
  }

  /** The embedded broker's bound port (MQTT_PORT=0 picks a free one); undefined when it is off. */
  get port(): number | undefined {
    return this.embedded?.port;
  }

  async start(): Promise<void> {
    const { mqttPort, mqttUrl, mqttBridgeConnections, host } = this.ctx.config;
    const { embeddedBroker = true, topics: _domainTopics, ...bridgeOptions } = this.options;
    try {
      if (mqttPort !== undefined && embeddedBroker) {
        const embedded = new EmbeddedBroker(this.devices, this.processor, this.topics, this.ctx.bus, this.logger, this.brokerLimits());
        this.embedded = embedded;
        await embedded.start(mqttPort, host);
      }
      if (mqttUrl !== undefined) {
        const external = new ExternalBridge(mqttUrl, this.devices, this.processor, this.topics, this.logger, {
          connections: mqttBridgeConnections, topicPrefix: this.ctx.config.mqttTopicPrefix, ...bridgeOptions,
        });
        this.external = external;
        await external.start();
      }
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  private brokerLimits(): BrokerLimits {
    const config = this.ctx.config;
    return {
      maxPacketBytes: mqttMaxPacketBytes(config),
      bytesBeforeAccept: BYTES_BEFORE_ACCEPT,
      maxPendingConnections: config.mqttMaxPendingConnections,
      maxConnections: config.mqttMaxConnections,
      connectTimeoutMs: config.mqttConnectTimeoutMs,
    };
  }

  async stop(): Promise<void> {
    await Promise.all([this.embedded?.stop(), this.external?.stop()]);
  }
}
