import mqtt, { type MqttClient } from 'mqtt';

/** What became of one fuzzed publish: acknowledged, refused on its PUBACK (MQTT 5, ≥ 0x80), the connection closed, or no answer. */
export type PublishOutcome = 'acknowledged' | 'refused' | 'closed' | 'no answer';

/**
 * A device's connection for fuzzing: each QoS 1 publish ends in an outcome, at once when the server closes the
 * connection (instead of waiting out a timeout for every message still in flight), and the next publish
 * connects again, so one message that breaks a connection does not hide what happens to the rest.
 */
export class FuzzConnection {
  private client: MqttClient | undefined;
  private closed: Promise<'closed'> = Promise.resolve('closed');
  /** Connections the server closed during the run. */
  reconnects = 0;

  constructor(private readonly url: string, private readonly key: string, private readonly protocolVersion: 4 | 5 = 4) {}

  private connecting: Promise<MqttClient> | undefined;

  /** The open connection, or a new one (one at a time, however many publishes ask for it together). */
  private connected(): Promise<MqttClient> {
    if (this.client?.connected) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      if (this.client) {
        this.reconnects += 1;
        this.client.end(true);
      }
      const client = await mqtt.connectAsync(this.url, { username: this.key, reconnectPeriod: 0, protocolVersion: this.protocolVersion });
      this.client = client;
      this.closed = new Promise((resolve) => client.once('close', () => resolve('closed')));
      return client;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async publish(topic: string, payload: string | Buffer, timeoutMs: number): Promise<PublishOutcome> {
    const client = await this.connected();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'no answer'>((resolve) => {
      timer = setTimeout(() => resolve('no answer'), timeoutMs);
    });
    const sent = client.publishAsync(topic, payload, { qos: 1 }).then(
      () => 'acknowledged' as const,
      (error: { code?: number }) => (typeof error.code === 'number' && error.code >= 0x80 ? 'refused' as const : 'closed' as const),
    );
    try {
      return await Promise.race([sent, this.closed, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  get isConnected(): boolean {
    return this.client?.connected ?? false;
  }

  async end(): Promise<void> {
    await this.client?.endAsync(true).catch(() => undefined);
  }
}
