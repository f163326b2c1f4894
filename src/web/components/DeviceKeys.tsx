import { useState } from 'react';
import { useDeviceKeys, useKeyAction, type DeviceKey, type IssuedKey } from '../api/fleet';
import type { Device } from '../api/types';
import { formatRelative, formatTime } from '../lib/format';
import { ConfirmDialog, Dialog } from './Dialog';
import { DeviceSetup } from './DeviceSetup';
import { Notice, useNotice } from './Notice';
import { EmptyState, ErrorState, LoadingState } from './states';

/**
 * A device's keys: prefix, created, last used, state. Create a key or rotate one (the new secret is
 * shown once, with the device's configuration); revoke after confirmation (the device is refused at once).
 */
export function DeviceKeys({ device, zone }: { device: Device; zone: string }) {
  const keys = useDeviceKeys(device.id, true);
  const action = useKeyAction(device.id);
  const notice = useNotice();
  const [issued, setIssued] = useState<IssuedKey | null>(null);
  const [confirm, setConfirm] = useState<{ type: 'rotate' | 'revoke'; key: DeviceKey } | null>(null);

  const create = () => action.mutate({ type: 'create' }, { onSuccess: (result) => setIssued(result) });
  const run = () => {
    if (!confirm) return;
    action.mutate({ type: confirm.type, keyId: confirm.key.id }, {
      onSuccess: (result) => {
        setConfirm(null);
        if (result) setIssued(result);
        else notice.show(`Key ${confirm.key.prefix}… revoked.`);
      },
    });
  };

  return (
    <section className="panel" aria-labelledby="keys-heading">
      <div className="panel-header">
        <h2 id="keys-heading">Keys</h2>
        <button type="button" className="button button-small" onClick={create} disabled={action.isPending}>Create a key</button>
      </div>
      <p className="muted small">Devices send their key as <code>X-API-Key</code>. Only the first characters are kept in view; a lost key is replaced, never shown again.</p>
      <Notice message={notice.message} />
      {action.isError && !confirm && <p className="form-error" role="alert">{action.error.message}</p>}
      {keys.isPending ? (
        <LoadingState label="Loading keys…" />
      ) : keys.isError ? (
        <ErrorState title="Keys could not be loaded" error={keys.error} onRetry={() => void keys.refetch()} />
      ) : keys.data.items.length === 0 ? (
        <EmptyState title="No keys"><p>Create a key to let this device report.</p></EmptyState>
      ) : (
        <div className="table-wrap" role="region" aria-label="Device keys" tabIndex={0}>
          <table className="table">
            <thead>
              <tr><th scope="col">Key</th><th scope="col">Created</th><th scope="col" className="hide-narrow">Last used</th><th scope="col">State</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr>
            </thead>
            <tbody>
              {keys.data.items.map((key) => (
                <tr key={key.id}>
                  <td className="mono">{key.prefix}…</td>
                  <td><time dateTime={key.createdAt} title={formatTime(key.createdAt, zone)}>{formatRelative(key.createdAt)}</time></td>
                  <td className="hide-narrow">{key.lastUsedAt ? <time dateTime={key.lastUsedAt} title={formatTime(key.lastUsedAt, zone)}>{formatRelative(key.lastUsedAt)}</time> : <span className="muted">Never</span>}</td>
                  <td>{key.revokedAt ? <span className="muted">Revoked</span> : 'Active'}</td>
                  <td>
                    {!key.revokedAt && (
                      <div className="row-actions">
                        <button type="button" className="button button-small" onClick={() => { action.reset(); setConfirm({ type: 'rotate', key }); }} aria-label={`Rotate key ${key.prefix}`}>Rotate</button>
                        <button type="button" className="button button-small button-danger" onClick={() => { action.reset(); setConfirm({ type: 'revoke', key }); }} aria-label={`Revoke key ${key.prefix}`}>Revoke</button>
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {confirm && (
        <ConfirmDialog
          title={confirm.type === 'rotate' ? 'Rotate this key?' : 'Revoke this key?'}
          confirmLabel={confirm.type === 'rotate' ? 'Rotate the key' : 'Revoke the key'}
          busy={action.isPending}
          error={action.error}
          onConfirm={run}
          onClose={() => setConfirm(null)}
        >
          <p>
            Key <code>{confirm.key.prefix}…</code> stops working at once{confirm.type === 'rotate' ? '; a new key is shown once, to put on the device' : ': the device is refused until it gets another key'}.
          </p>
        </ConfirmDialog>
      )}
      {issued && (
        <Dialog title="New device key" wide onClose={() => setIssued(null)}>
          <DeviceSetup apiKey={issued.apiKey} kind={device.kind} serial={device.serial} />
          <div className="dialog-actions"><button type="button" className="button button-primary" onClick={() => setIssued(null)}>I have copied it</button></div>
        </Dialog>
      )}
    </section>
  );
}
