import type { DeviceKind } from './devices.js';

/* What the register wizard shows someone setting up a device: the text to paste into it. */

/** The `cloud:` block of a RushRoster device's config.yaml: the device appends /api/ingest/v1/... to api_url itself. */
export function rushRosterConfig(publicUrl: string, apiKey: string): string {
  return `cloud:\n  api_url: ${publicUrl}\n  api_key: ${apiKey}\n`;
}

/** A native API call that reports one event (radars) or one reading (other kinds) with this key. */
export function curlExample(publicUrl: string, apiKey: string, kind: DeviceKind, now = new Date()): string {
  const ts = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const body = kind === 'speed_radar'
    ? `{"events":[{"ts":"${ts}","kind":"speed","speed":42}]}`
    : kind === 'refrigeration' || kind === 'sensor'
      ? `{"items":[{"ts":"${ts}","values":{"temperature":3.8}}]}`
      : `{"events":[{"ts":"${ts}","kind":"motion"}]}`;
  const path = kind === 'refrigeration' || kind === 'sensor' ? 'telemetry' : 'events';
  return `curl -X POST ${publicUrl}/api/v1/ingest/${path} \\\n  -H 'X-API-Key: ${apiKey}' \\\n  -H 'Content-Type: application/json' \\\n  -d '${body}'`;
}

/**
 * A refrigeration unit's own firmware (Polo Sanca) sends one reading per request to this path, naming
 * itself by serial number next to the key; the reading is stamped with the server's time.
 */
export function poloSancaExample(publicUrl: string, apiKey: string, serial: string): string {
  const body = JSON.stringify({ serial, temperature: 3.8, pressure: 120.5, door: 0, heater: 0, compressor: 1, fan: 1 }).replace(/'/g, "'\\''");
  return `curl -X POST ${publicUrl}/v1/equipments/telemetry \\\n  -H 'X-API-Key: ${apiKey}' \\\n  -H 'Content-Type: application/json' \\\n  -d '${body}'`;
}

/** Whether devices are told an address that only this machine reaches (PUBLIC_URL left at its default, say). */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === '0.0.0.0';
}
