import { useState, type FormEvent } from 'react';
import { useRemoveCameraCredentials, useSetCameraCredentials, type Camera } from '../../api/cameras';
import { formErrors } from '../../lib/forms';
import { ConfirmDialog } from '../Dialog';
import { TextField } from '../TextField';

/**
 * The RTSP user name and password, write-only: the API says only whether they are set, so the form is
 * never filled in; saving replaces them, and removing asks first. The typed values are dropped once sent.
 */
export function CameraCredentials({ camera, canEdit, onSaved }: { camera: Camera; canEdit: boolean; onSaved: (text: string) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [local, setLocal] = useState<Record<string, string>>({});
  const [confirming, setConfirming] = useState(false);
  const set = useSetCameraCredentials(camera.id);
  const remove = useRemoveCameraCredentials(camera.id);
  const { field, other } = formErrors(set.error, ['username', 'password'], local);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problems: Record<string, string> = {};
    if (!username.trim()) problems.username = 'Enter the camera\'s user name.';
    setLocal(problems);
    if (Object.keys(problems).length > 0) return;
    set.mutate({ username: username.trim(), password }, {
      onSuccess: () => {
        setUsername('');
        setPassword('');
        onSaved('Credentials saved. They are stored encrypted and never shown again.');
      },
    });
  };

  return (
    <section className="panel" aria-labelledby="camera-credentials-heading">
      <h2 id="camera-credentials-heading">Credentials</h2>
      <p data-testid="credentials-state">
        {camera.hasCredentials
          ? <><strong>Credentials set.</strong> <span className="muted">They are stored encrypted and never shown.</span></>
          : <><strong>No credentials.</strong> <span className="muted">The camera is opened without a user name and password.</span></>}
      </p>
      {canEdit && (
        <form onSubmit={submit} noValidate aria-label={camera.hasCredentials ? 'Replace the credentials' : 'Set the credentials'} autoComplete="off">
          <div className="field-row">
            <TextField id="camera-username" label="User name" value={username} onChange={(e) => { setUsername(e.target.value); setLocal({}); }} autoComplete="off" spellCheck={false} error={field('username')} />
            <TextField id="camera-password" label="Password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" error={field('password')} />
          </div>
          {other && <p className="form-error" role="alert">{other}</p>}
          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={set.isPending}>
              {set.isPending ? 'Saving…' : camera.hasCredentials ? 'Replace credentials' : 'Save credentials'}
            </button>
            {camera.hasCredentials && <button type="button" className="button button-danger" onClick={() => setConfirming(true)}>Remove credentials</button>}
          </div>
        </form>
      )}
      {confirming && (
        <ConfirmDialog
          title="Remove the credentials?" confirmLabel="Remove credentials" busy={remove.isPending} error={remove.error}
          onClose={() => { setConfirming(false); remove.reset(); }}
          onConfirm={() => remove.mutate(undefined, { onSuccess: () => { setConfirming(false); onSaved('Credentials removed.'); } })}
        >
          <p>{camera.name} will be opened without a user name and password. A camera that needs them reports “401 unauthorized”.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
