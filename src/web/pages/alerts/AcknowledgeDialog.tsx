import { useState, type FormEvent } from 'react';
import { useAlertAction } from '../../api/alerts';
import { Dialog } from '../../components/Dialog';

/** Acknowledges one or several open alerts with an optional comment (shown in each alert's timeline). */
export function AcknowledgeDialog({ ids, onClose, onDone }: {
  ids: string[];
  onClose: () => void;
  onDone: (result: { acknowledged: number; skipped: number }) => void;
}) {
  const [comment, setComment] = useState('');
  const action = useAlertAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    action.mutate({ type: 'acknowledge', ids, comment }, { onSuccess: onDone });
  };
  const title = ids.length === 1 ? 'Acknowledge alert' : `Acknowledge ${ids.length} alerts`;
  return (
    <Dialog title={title} onClose={onClose}>
      <form onSubmit={submit}>
        <p>Acknowledging says someone is on it; escalation to further channels stops. The alert still resolves when the value comes back.</p>
        <div className="field">
          <label htmlFor="ack-comment">Comment (optional)</label>
          <textarea id="ack-comment" className="comment-box" maxLength={2000} value={comment} onChange={(e) => setComment(e.target.value)} placeholder="e.g. Technician on the way" />
        </div>
        {action.error && <p className="form-error" role="alert">{action.error.message}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button-primary" disabled={action.isPending}>{action.isPending ? 'Acknowledging…' : 'Acknowledge'}</button>
        </div>
      </form>
    </Dialog>
  );
}
