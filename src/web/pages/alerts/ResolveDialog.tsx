import { useState, type FormEvent } from 'react';
import { useAlertAction } from '../../api/alerts';
import { Dialog } from '../../components/Dialog';

/** Resolves an alert by hand with the corrective action taken, which the alert's timeline and the compliance record keep. */
export function ResolveDialog({ id, onClose, onDone }: { id: string; onClose: () => void; onDone: () => void }) {
  const [comment, setComment] = useState('');
  const action = useAlertAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    action.mutate({ type: 'resolve', id, comment }, { onSuccess: onDone });
  };
  return (
    <Dialog title="Resolve this alert" onClose={onClose}>
      <form onSubmit={submit}>
        <p>The alert is closed by hand. If the condition still holds, the rule raises a new alert after its duration.</p>
        <div className="field">
          <label htmlFor="resolve-comment">Corrective action</label>
          <textarea id="resolve-comment" className="comment-box" maxLength={2000} value={comment} aria-describedby="resolve-comment-hint"
            onChange={(e) => setComment(e.target.value)} placeholder="e.g. Stock moved to cold room 2, door seal replaced" />
          <span className="field-hint" id="resolve-comment-hint">What was done about it: kept on the alert and in the temperature compliance record.</span>
        </div>
        {action.error && <p className="form-error" role="alert">{action.error.message}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button-primary" disabled={action.isPending}>{action.isPending ? 'Resolving…' : 'Resolve'}</button>
        </div>
      </form>
    </Dialog>
  );
}
