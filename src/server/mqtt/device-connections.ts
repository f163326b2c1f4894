import type { Client, PublishPacket } from 'aedes';
import { topicMatches, type Downlink } from './device-topics.js';

/**
 * The embedded broker's open connections by device, and what Vigil sends to them: a downlink from the bus
 * to each connection of its device, or a reply to one connection, only on topics the connection subscribed to.
 */
export class DeviceConnections {
  private readonly byDevice = new Map<string, Set<Client>>();
  private readonly closings = new WeakMap<Client, AbortController>();

  opened(deviceId: string, client: Client): void {
    const clients = this.byDevice.get(deviceId) ?? new Set<Client>();
    this.byDevice.set(deviceId, clients.add(client));
  }

  closed(deviceId: string, client: Client): void {
    const clients = this.byDevice.get(deviceId);
    clients?.delete(client);
    if (clients?.size === 0) this.byDevice.delete(deviceId);
    this.closings.get(client)?.abort();
  }

  /** A message from the bus for a device: to each of its connections here that subscribed to the topic. */
  deliver(downlink: Downlink): void {
    for (const client of this.byDevice.get(downlink.deviceId) ?? []) {
      this.sendTo(client, downlink.topic, downlink.payload).catch(() => undefined);
    }
  }

  /**
   * Publishes to one connection if it subscribed to the topic, at most at the QoS it asked for (1 at most).
   * Marked with the connection's id, which the broker's authorizeForward checks.
   */
  async sendTo(client: Client, topic: string, payload: string): Promise<boolean> {
    if (client.closed) return false;
    const subscriptions = (client as unknown as { subscriptions: Record<string, { qos?: number }> }).subscriptions;
    const matching = Object.entries(subscriptions).filter(([filter]) => topicMatches(filter, topic));
    if (matching.length === 0) return false;
    const qos = Math.min(1, Math.max(...matching.map(([, sub]) => sub.qos ?? 0)));
    const packet = { cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false, clientId: client.id } as PublishPacket;
    await new Promise<void>((resolve) => client.publish(packet, () => resolve()));
    return true;
  }

  /** Aborts when the connection closes (for what a domain keeps doing for a subscribed connection). */
  closedSignal(client: Client): AbortSignal {
    let closing = this.closings.get(client);
    if (!closing) this.closings.set(client, (closing = new AbortController()));
    if (client.closed) closing.abort();
    return closing.signal;
  }
}
