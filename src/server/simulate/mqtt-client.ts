import mqtt, { type MqttClient } from 'mqtt';

/** The outcome of one delivery, in the shape of an HTTP answer so that one retry policy serves both. */
export interface Delivery {
  status: number;
  json: unknown;
  retryAfter: string | null;
}

/**
 * The simulated devices' MQTT connections to Vigil's broker, one per device key (user name = key),
 * opened on first use and reopened after a failure. A QoS 1 publish resolves once Vigil's PUBACK
 * arrives, which Vigil sends only after the batch is committed.
 */
export class MqttLinks {
  private readonly links = new Map<string, Promise<MqttClient>>();

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  async publish(key: string, topic: string, body: string, signal: AbortSignal): Promise<Delivery> {
    const client = await this.link(key);
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        client.publishAsync(topic, body, { qos: 1 }),
        new Promise<never>((_, reject) => {
          onAbort = () => reject(new Error('publish aborted (no PUBACK in time)'));
          signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      return { status: 200, json: null, retryAfter: null };
    } catch (error) {
      // The next attempt reconnects: Vigil closes a connection whose message it could not store.
      this.drop(key);
      throw error;
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  private link(key: string): Promise<MqttClient> {
    let link = this.links.get(key);
    if (!link) {
      link = mqtt.connectAsync(this.url, { username: key, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: this.timeoutMs });
      link.catch(() => this.links.delete(key));
      this.links.set(key, link);
    }
    return link;
  }

  private drop(key: string): void {
    const link = this.links.get(key);
    this.links.delete(key);
    void link?.then((client) => client.endAsync(true)).catch(() => undefined);
  }

  async close(): Promise<void> {
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.all(links.map((link) => link.then((client) => client.endAsync()).catch(() => undefined)));
  }
}
