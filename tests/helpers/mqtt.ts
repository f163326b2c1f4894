import mqtt, { type MqttClient } from 'mqtt';

/** What Vigil publishes on an error topic about a message it could not fully store. */
export interface Report {
  topic: string;
  messageId?: number;
  code: string;
  message: string;
  accepted?: number;
  rejected?: { index: number; errors: { field: string; message: string }[] }[];
}

/** Resolves with the next message on `topic`, or fails after `ms`. */
export function nextMessage(client: MqttClient, topic: string, ms = 5000): Promise<Report> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no message on ${topic} within ${ms} ms`));
    }, ms);
    function onMessage(received: string, payload: Buffer) {
      if (received !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(JSON.parse(payload.toString()) as Report);
    }
    client.on('message', onMessage);
  });
}

export async function waitFor(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The QoS the broker granted for one subscription, or 128 when it refused it. */
export async function granted(client: MqttClient, topic: string): Promise<number> {
  try {
    return (await client.subscribeAsync(topic, { qos: 1 }))[0]!.qos;
  } catch (error) {
    const suback = (error as { packet?: { granted?: number[] } }).packet;
    if (!suback?.granted) throw error;
    return suback.granted[0]!;
  }
}

export const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Connects a device to the broker on `port` (its key as user name, MQTT 3.1.1) and answers a function that
 * publishes one reading of `values` with QoS 1, at `ts` or, without it, as received. The client joins
 * `opened`, for the test to close.
 */
export async function telemetryPublisher(port: number, key: string, opened: MqttClient[]) {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: key, reconnectPeriod: 0, protocolVersion: 4 });
  opened.push(client);
  return (values: Record<string, unknown>, ts?: string) =>
    client.publishAsync('v1/devices/me/telemetry', JSON.stringify(ts ? { ts: Date.parse(ts), values } : values), { qos: 1 });
}
