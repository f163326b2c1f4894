import type { DeviceKind } from '../api/types';
import { useConsoleConfig } from '../api/fleet';
import { CopyButton } from './CopyButton';
import { Spinner } from './states';

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

function Snippet({ id, title, text, copyLabel }: { id: string; title: string; text: string; copyLabel: string }) {
  return (
    <div>
      <h3 id={id}>{title}</h3>
      <pre className="code-block" aria-labelledby={id} tabIndex={0}><code>{text}</code></pre>
      <div className="copy-row"><CopyButton text={text} label={copyLabel} /></div>
    </div>
  );
}

/**
 * A device key shown once, with what to put on the device: the exact RushRoster `cloud:` settings for
 * radars, and a call to the native API for every kind.
 */
export function DeviceSetup({ apiKey, kind, serial }: { apiKey: string; kind: DeviceKind; serial?: string | null }) {
  const config = useConsoleConfig();
  // Until the server's PUBLIC_URL is known (or if it cannot be read), the address this console is served from.
  const publicUrl = config.data?.publicUrl ?? (config.isError ? window.location.origin : null);
  return (
    <div className="device-setup">
      <p className="warning"><strong>Copy this key now.</strong> It is shown only once; Vigil keeps only its hash. If it is lost, create a new key on the device's page.</p>
      <h3 id="device-key-heading">Device key</h3>
      <div className="secret">
        <code aria-labelledby="device-key-heading" data-testid="device-key">{apiKey}</code>
        <CopyButton text={apiKey} label="Copy key" />
      </div>
      {publicUrl === null ? <Spinner label="Loading the server's address…" /> : (
        <Snippets publicUrl={publicUrl} apiKey={apiKey} kind={kind} serial={serial ?? null} />
      )}
    </div>
  );
}

export function Snippets({ publicUrl, apiKey, kind, serial }: { publicUrl: string; apiKey: string; kind: DeviceKind; serial: string | null }) {
  return (
    <>
      {isLoopbackUrl(publicUrl) && (
        <p className="warning" role="note">
          <strong>Devices cannot reach {publicUrl}.</strong> That is this server's <code>PUBLIC_URL</code>, an address only
          this machine answers. Set <code>PUBLIC_URL</code> to the address devices reach (e.g. <code>https://vigil.example.com</code>)
          and restart Vigil before you configure a device on another network.
        </p>
      )}
      {kind === 'speed_radar' && (
        <>
          <Snippet id="rushroster-heading" title="RushRoster device: config.yaml" text={rushRosterConfig(publicUrl, apiKey)} copyLabel="Copy configuration" />
          <p className="small">
            Put this <code>cloud:</code> block in the device's <code>config.yaml</code> (or its settings page), then restart it.
            The device adds <code>/api/ingest/v1/events</code> to <code>api_url</code> itself. Its settings form shows the key masked
            (<code>***…</code>): retype the whole key whenever you save that form, or the masked text replaces it.
          </p>
        </>
      )}
      {kind === 'refrigeration' && serial && (
        <>
          <Snippet id="polosanca-heading" title="Polo Sanca unit: telemetry endpoint" text={poloSancaExample(publicUrl, apiKey, serial)} copyLabel="Copy Polo Sanca command" />
          <p className="small">
            A Polo Sanca unit posts each reading to <code>{publicUrl}/v1/equipments/telemetry</code> with this key in <code>X-API-Key</code>{' '}
            and its serial number <code>{serial}</code> in the body; both must match this device. Set them in the unit's cloud settings.
          </p>
        </>
      )}
      <Snippet id="curl-heading" title="Native API" text={curlExample(publicUrl, apiKey, kind)} copyLabel="Copy command" />
    </>
  );
}
