/**
 * What the device fuzz sends: every device-facing HTTP endpoint and MQTT topic, each with a generator of
 * hostile requests built around a valid one (tests/helpers/fuzz.ts). Shared by tests/fuzz-devices.test.ts
 * (in-process, a few thousand cases) and `npm run bench -- fuzz` (the built server, 10,000 bodies).
 */
import { encode, Hostile, type Rng } from './fuzz.js';

/** The devices a run fuzzes with (their keys), and an event of the radar's for the photo endpoints. */
export interface FuzzDevices {
  radar: string;
  sensor: string;
  fridge: string;
  fridgeSerial: string;
  eventId: string;
}

export type FuzzDevice = 'radar' | 'sensor' | 'fridge';

export interface HttpCase {
  endpoint: string;
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  /** Whose key goes in X-API-Key (ThingsBoard's device API carries it in the path instead). */
  device: FuzzDevice;
  contentType?: string;
  payload?: string;
}

export interface MqttCase {
  topic: string;
  /** Which connection publishes it: radars send events, the sensor everything else. */
  device: FuzzDevice;
  payload: string | Buffer;
}

/** URL-encodes anything, lone surrogates included (encodeURIComponent refuses them). */
export function urlPart(text: string): string {
  return [...text].map((c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%ED%A0%80';
    }
  }).join('');
}

export class DeviceFuzz {
  private readonly hostile: Hostile;
  readonly endpoints: [string, () => Omit<HttpCase, 'endpoint' | 'device'> & { device?: FuzzDevice }][];
  readonly topics: [string, () => MqttCase][];

  constructor(private readonly rng: Rng, private readonly devices: FuzzDevices) {
    const hostile = (this.hostile = new Hostile(rng));
    const { nativeEvent, reading, rushRosterEvent, poloSanca, query, anyId, items, batch } = this.generators();
    /** ThingsBoard's HTTP device API: the sensor's key in the path, now and then a hostile one. */
    const token = () => (rng.chance(0.9) ? devices.sensor : urlPart(hostile.string()).slice(0, 300) || 'x');
    const anything = (valid: () => unknown) => (rng.chance(0.2) ? hostile.wholeBody() : encode(rng.chance(0.5) ? hostile.mutate(valid() as Record<string, unknown>) : valid()));
    const attributes = () => ({ firmwareVersion: `1.${rng.int(0, 9)}`, ip: '10.0.4.17', uptime: rng.int(0, 1e6), config: { mode: 'eco' } });
    const thingsBoardTelemetry = () => rng.pick([{ temperature: 4.2, door: false }, { ts: Date.now() - rng.int(0, 1e8), values: { temperature: 3 } }, items(reading)]);
    const requestId = () => (rng.chance(0.7) ? String(rng.int(1, 1e6)) : urlPart(String(hostile.number())) || '0');

    this.endpoints = [
      ['native events', () => ({ method: 'POST', url: '/api/v1/ingest/events', payload: batch('events', nativeEvent) })],
      ['native telemetry', () => ({ method: 'POST', url: '/api/v1/ingest/telemetry', payload: batch('items', reading), device: 'sensor' })],
      ['rushroster upload', () => ({ method: 'POST', url: '/api/ingest/v1/events', payload: batch('events', rushRosterEvent) })],
      ['rushroster photo url', () => ({ method: 'POST', url: `/api/ingest/v1/events/${anyId()}/photo/url`, payload: rng.chance(0.5) ? undefined : hostile.wholeBody() })],
      ['rushroster photo upload', () => ({ method: 'PUT', url: `/api/ingest/v1/photo-uploads/${urlPart(hostile.string()).slice(0, 900) || 'x'}`, payload: hostile.wholeBody(), contentType: rng.pick(['image/jpeg', 'image/png', 'multipart/form-data; boundary=x', 'application/json']) })],
      ['rushroster photo confirm', () => ({ method: 'POST', url: `/api/ingest/v1/events/${anyId()}/photo/confirm?${query(['photo_key'])}` })],
      ['rushroster restore', () => ({ method: 'GET', url: `/api/ingest/v1/events?${query(['limit', 'offset', 'speeding_only'])}` })],
      ['rushroster heartbeat', () => ({ method: 'POST', url: '/api/ingest/v1/heartbeat', payload: rng.chance(0.5) ? encode(hostile.mutate({ timestamp: new Date().toISOString(), status: { cpu: 3 } })) : hostile.wholeBody() })],
      ['rushroster info', () => ({ method: 'GET', url: '/api/ingest/v1/device/info' })],
      ['rushroster stats', () => ({ method: 'GET', url: `/api/ingest/v1/device/stats?${query(['hours'])}` })],
      ['polo sanca json', () => ({ method: 'POST', url: '/v1/equipments/telemetry', payload: rng.chance(0.1) ? hostile.wholeBody() : encode(hostile.mutate(poloSanca())), device: 'fridge' })],
      ['polo sanca form', () => {
        const fields = Object.entries(hostile.mutate(poloSanca()) as Record<string, unknown>).map(([k, v]) => `${urlPart(k)}=${urlPart(typeof v === 'string' ? v : encode(v))}`);
        if (rng.chance(0.2)) fields.push(rng.pick(['serial=a', '%ZZ=1', 'temperature', '=', '&&&', `door=${'1'.repeat(5000)}`]));
        return { method: 'POST', url: '/v1/equipments/telemetry', payload: fields.join('&'), contentType: 'application/x-www-form-urlencoded', device: 'fridge' };
      }],
      ['thingsboard telemetry', () => ({ method: 'POST', url: `/api/v1/${token()}/telemetry`, payload: anything(thingsBoardTelemetry) })],
      ['thingsboard attributes', () => ({ method: 'POST', url: `/api/v1/${token()}/attributes`, payload: anything(attributes) })],
      ['thingsboard attribute values', () => ({ method: 'GET', url: `/api/v1/${token()}/attributes?${query(['clientKeys', 'sharedKeys'])}` })],
      // A poll with a valid timeout waits that long for a command: keep valid ones short.
      ['thingsboard rpc poll', () => ({ method: 'GET', url: `/api/v1/${token()}/rpc?timeout=${rng.chance(0.5) ? rng.int(1, 50) : urlPart(String(hostile.number()))}` })],
      ['thingsboard rpc answer', () => ({ method: 'POST', url: `/api/v1/${token()}/rpc/${requestId()}`, payload: anything(() => ({ result: 'ok', value: rng.int(0, 9) })) })],
      ['thingsboard client rpc', () => ({ method: 'POST', url: `/api/v1/${token()}/rpc`, payload: anything(() => ({ method: rng.pick(['getCurrentTime', 'getSessionLimits', 'reboot']), params: {} })) })],
    ];

    const telemetryPayload = () => (rng.chance(0.3) ? hostile.wholeBody() : encode(rng.chance(0.5) ? hostile.mutate({ temperature: 4, ts: Date.UTC(2026, 1, 1) }) : items(reading)));
    const eventPayload = () => (rng.chance(0.3) ? hostile.wholeBody() : encode(rng.chance(0.5) ? hostile.mutate(nativeEvent()) : items(nativeEvent)));
    this.topics = [
      ['v1/devices/me/telemetry', () => ({ topic: 'v1/devices/me/telemetry', device: 'sensor', payload: telemetryPayload() })],
      ['v1/devices/me/events', () => ({ topic: 'v1/devices/me/events', device: 'radar', payload: eventPayload() })],
      ['v1/devices/me/attributes', () => ({ topic: 'v1/devices/me/attributes', device: 'sensor', payload: anything(attributes) })],
      ['v1/devices/me/attributes/request/{id}', () => ({
        topic: `v1/devices/me/attributes/request/${rng.chance(0.8) ? requestId() : hostile.string().slice(0, 200)}`, device: 'sensor',
        payload: anything(() => ({ clientKeys: 'firmwareVersion,ip', sharedKeys: rng.pick(['', 'targetTemperature', hostile.string()]) })),
      })],
      ['v1/devices/me/rpc/request/{id}', () => ({ topic: `v1/devices/me/rpc/request/${requestId()}`, device: 'sensor', payload: anything(() => ({ method: rng.pick(['getCurrentTime', 'getSessionLimits']), params: {} })) })],
      ['v1/devices/me/rpc/response/{id}', () => ({ topic: `v1/devices/me/rpc/response/${requestId()}`, device: 'sensor', payload: anything(() => ({ result: 'done' })) })],
    ];
  }

  private generators() {
    const { rng, hostile, devices } = this;
    const ts = () => new Date(Date.UTC(2026, 0, 1) + rng.int(0, 300 * 86_400) * 1000).toISOString();
    const items = (base: () => Record<string, unknown>) =>
      Array.from({ length: rng.int(1, 5) }, () => (rng.chance(0.4) ? base() : hostile.mutate(base())));
    return {
      items,
      /** A batch body: mostly the right envelope around good and mutated items, sometimes anything at all. */
      batch: (field: string, base: () => Record<string, unknown>): string => {
        if (rng.chance(0.15)) return hostile.wholeBody();
        return encode(rng.chance(0.1) ? hostile.mutate({ [field]: items(base) }) : { [field]: items(base) });
      },
      nativeEvent: () => ({ client_ref: `f-${rng.int(0, 1e9)}`, ts: ts(), kind: 'speed', speed: rng.int(1, 80), speed_limit: 30, severity: 'info', attributes: { lane: rng.int(1, 3), note: 'ok' } }),
      reading: () => ({ ts: ts(), values: { temperature: rng.int(-200, 200) / 10, door: rng.chance(0.5) } }),
      rushRosterEvent: () => ({ timestamp: ts().slice(0, 19), speed: rng.int(1, 80), speed_limit: 25, is_speeding: rng.pick([0, 1, true, 'false']), has_photo: rng.chance(0.3) }),
      poloSanca: () => ({ serial: devices.fridgeSerial, temperature: rng.int(-300, 300) / 10, pressure: rng.int(0, 200), door: rng.int(0, 1), heater: 0, compressor: 1, fan: 1 }),
      query: (names: string[]) => names.filter(() => rng.chance(0.7)).map((n) => `${n}=${urlPart(String(rng.chance(0.5) ? hostile.string() : hostile.number()))}`).join('&'),
      anyId: () => (rng.chance(0.3) ? devices.eventId : urlPart(hostile.string()).slice(0, 60) || '0'),
    };
  }

  /** One HTTP request to a random endpoint; now and then with a hostile content type. */
  httpCase(): HttpCase {
    const [endpoint, build] = this.rng.pick(this.endpoints);
    const { device = 'radar', ...built } = build();
    const contentType = this.rng.chance(0.08) ? this.hostile.contentType() : (built.contentType ?? (built.payload === undefined ? undefined : 'application/json'));
    return { endpoint, device, ...built, contentType };
  }

  /** One MQTT publish to a random topic; now and then random bytes. */
  mqttCase(): MqttCase {
    const [, build] = this.rng.pick(this.topics);
    const built = build();
    return this.rng.chance(0.05) ? { ...built, payload: Buffer.from(Array.from({ length: this.rng.int(1, 300) }, () => this.rng.int(0, 255))) } : built;
  }

  keyOf(device: FuzzDevice): string {
    return this.devices[device];
  }
}
