import type { DeviceKind } from '../api/types';
import { curlExample, isLoopbackUrl, poloSancaExample, rushRosterConfig } from '../../shared/device-setup';
import { useConsoleConfig } from '../api/fleet';
import { CopyButton } from './CopyButton';
import { Spinner } from './states';

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
