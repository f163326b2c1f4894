import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { MAINTENANCE_TYPE_LABELS, maintenanceKeys, useMaintenanceHistory, type MaintenanceRecord } from '../../api/maintenance';
import { may } from '../../lib/access';
import { displayLocale, formatNumber } from '../../lib/format';
import { ConfirmDialog } from '../Dialog';
import { EventTime } from '../EventTime';
import { Notice, useNotice } from '../Notice';
import { Pager, useCursorPager } from '../Pager';
import { useSession } from '../session';
import { EmptyState, ErrorState, LoadingState } from '../states';
import { MaintenanceDialog } from './MaintenanceDialog';

function formatCost(cost: number, currency: string): string {
  try {
    return new Intl.NumberFormat(displayLocale(), { style: 'currency', currency }).format(cost);
  } catch {
    return `${formatNumber(cost, 2)} ${currency}`;
  }
}

/** A device's maintenance history, newest first, with logging, editing and deleting for those allowed. */
export function MaintenanceSection({ deviceId, deviceName, zone }: { deviceId: string; deviceName: string; zone: string }) {
  const { me } = useSession();
  const canWrite = may(me, 'maintenance.write');
  const canDelete = may(me, 'maintenance.delete');
  const pager = useCursorPager();
  const history = useMaintenanceHistory(deviceId, pager.cursor);
  const [editing, setEditing] = useState<MaintenanceRecord | 'new' | null>(null);
  const [deleting, setDeleting] = useState<MaintenanceRecord | null>(null);
  const notice = useNotice();

  let body;
  if (history.isPending) body = <LoadingState label="Loading maintenance…" />;
  else if (history.isError) body = <ErrorState title="Maintenance could not be loaded" error={history.error} onRetry={() => void history.refetch()} />;
  else if (history.data.items.length === 0) {
    body = (
      <EmptyState title="No maintenance logged yet">
        <p>{canWrite ? 'Log each service, repair or inspection to keep its history and next due date.' : 'Services, repairs and inspections of this device will appear here.'}</p>
      </EmptyState>
    );
  } else {
    body = (
      <>
        <ul className="maintenance-list" aria-label={`Maintenance of ${deviceName}`} aria-busy={history.isPlaceholderData || undefined}>
          {history.data.items.map((r) => (
            <li key={r.id} className="maintenance-item">
              <div className="maintenance-item-header">
                <strong>{MAINTENANCE_TYPE_LABELS[r.type]} · <EventTime iso={r.performedAt} zone={zone} /></strong>
                {(canWrite || canDelete) && (
                  <div className="row-actions">
                    {canWrite && <button type="button" className="button button-small" onClick={() => setEditing(r)} aria-label={`Edit the ${r.type} maintenance of ${r.performedAt.slice(0, 10)}`}>Edit</button>}
                    {canDelete && <button type="button" className="button button-small button-danger" onClick={() => setDeleting(r)} aria-label={`Delete the ${r.type} maintenance of ${r.performedAt.slice(0, 10)}`}>Delete</button>}
                  </div>
                )}
              </div>
              <p>{r.description}</p>
              <p className="muted">
                By {r.performedBy}
                {r.cost !== null && r.currency && <> · {formatCost(r.cost, r.currency)}</>}
                {r.nextDueOn && <> · next due {r.nextDueOn}</>}
              </p>
              {r.parts.length > 0 && <p className="muted">Parts: {r.parts.join(', ')}</p>}
              {r.notes && <p className="muted">{r.notes}</p>}
              {r.attachments.length > 0 && (
                <ul className="attachment-list" aria-label="Attachments">
                  {r.attachments.map((a) => <li key={a.id}><a href={a.url} target="_blank" rel="noopener noreferrer">{a.fileName}</a></li>)}
                </ul>
              )}
            </li>
          ))}
        </ul>
        <Pager label="Maintenance pages" page={pager.page} nextCursor={history.data.nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={history.isPlaceholderData} />
      </>
    );
  }

  return (
    <section className="panel" aria-labelledby="maintenance-heading">
      <div className="panel-header">
        <h2 id="maintenance-heading">Maintenance</h2>
        {canWrite && <button type="button" className="button button-primary" onClick={() => setEditing('new')}>Log maintenance</button>}
      </div>
      <Notice message={notice.message} />
      {body}
      {editing && (
        <MaintenanceDialog
          deviceId={deviceId}
          record={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={(_record, created) => { setEditing(null); notice.show(created ? 'Maintenance logged.' : 'Maintenance saved.'); }}
        />
      )}
      {deleting && <DeleteMaintenanceDialog record={deleting} onClose={() => setDeleting(null)} onDeleted={() => { setDeleting(null); notice.show('Maintenance deleted.'); }} />}
    </section>
  );
}

function DeleteMaintenanceDialog({ record, onClose, onDeleted }: { record: MaintenanceRecord; onClose: () => void; onDeleted: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api<void>(`/maintenance/records/${record.id}`, { method: 'DELETE' }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: maintenanceKeys.all });
      onDeleted();
    },
  });
  return (
    <ConfirmDialog title="Delete this maintenance record?" confirmLabel="Delete record" busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate()} onClose={onClose}>
      <p>
        The {MAINTENANCE_TYPE_LABELS[record.type].toLowerCase()} maintenance by {record.performedBy} on {record.performedAt.slice(0, 10)}
        {record.attachments.length > 0 && ` and its ${record.attachments.length} attachment(s)`} will be removed for good. The audit log keeps a note of it.
      </p>
    </ConfirmDialog>
  );
}
