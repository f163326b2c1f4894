import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { alertKeys, useChannels, type Channel, type DigestSchedule } from '../../api/alerts';
import { api } from '../../api/client';
import { ConfirmDialog } from '../../components/Dialog';
import { Notice, useNotice } from '../../components/Notice';
import { SecretReveal } from '../../components/SecretReveal';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { useTitle } from '../../lib/title';
import { ChannelDialog } from './ChannelDialog';
import { DeliveryLog } from './DeliveryLog';
import { MaintenanceReminders } from './MaintenanceReminders';
import '../alerts/alerts.css';

const KIND_NAMES: Record<Channel['kind'], string> = { email: 'Email', webhook: 'Webhook', in_app: 'In the console' };

function digestText(digest: DigestSchedule): string {
  if (digest.every === 'day') return `Daily digest at ${digest.at}`;
  return digest.minutes === 60 ? 'Hourly digest' : `Digest every ${digest.minutes} min`;
}

/** `/admin/notifications`: where alerts are sent (email, signed webhooks, in-app), each channel's delivery log and maintenance reminders. */
export function NotificationsPage() {
  useTitle('Notifications');
  const notice = useNotice();
  const channels = useChannels();
  const [editing, setEditing] = useState<Channel | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Channel | null>(null);
  const [rotating, setRotating] = useState<Channel | null>(null);
  const [secret, setSecret] = useState<{ channel: string; value: string } | null>(null);
  const [logOf, setLogOf] = useState<Channel | null>(null);

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Notifications</h1>
          <p className="muted">Channels that alert rules notify when an alert opens, escalates or resolves, and that maintenance reminders go to.</p>
        </div>
        <button type="button" className="button button-primary" onClick={() => setEditing('new')}>New channel</button>
      </header>
      <Notice message={notice.message} />
      {secret && (
        <SecretReveal label={`Signing secret of ${secret.channel}`} value={secret.value}>
          <p>The signing secret of “{secret.channel}”: the receiver checks each request's <code>x-vigil-signature</code> with it (see the alerts documentation).</p>
        </SecretReveal>
      )}
      {channels.isPending ? <LoadingState label="Loading channels…" />
        : channels.isError ? <ErrorState title="Channels could not be loaded" error={channels.error} onRetry={() => void channels.refetch()} />
          : channels.data.items.length === 0 ? (
            <EmptyState title="No channels yet">
              <p>Add an email list or a webhook, then choose it in an alert rule.</p>
              <button type="button" className="button button-primary" onClick={() => setEditing('new')}>New channel</button>
            </EmptyState>
          ) : (
            <div className="table-wrap" role="region" aria-label="Notification channels" tabIndex={0}>
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Channel</th>
                    <th scope="col">Kind</th>
                    <th scope="col" className="hide-narrow">Sends to</th>
                    <th scope="col">State</th>
                    <th scope="col"><span className="visually-hidden">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  {channels.data.items.map((channel) => (
                    <tr key={channel.id}>
                      <td>
                        {channel.name}
                        {channel.digest && <div className="muted small">{digestText(channel.digest)}</div>}
                        {channel.quietHours && <div className="muted small">Quiet {channel.quietHours.from}–{channel.quietHours.to}</div>}
                      </td>
                      <td>{KIND_NAMES[channel.kind]}</td>
                      <td className="hide-narrow alert-message">{channel.kind === 'email' ? channel.recipients.join(', ') : channel.url ?? '—'}</td>
                      <td>{channel.enabled ? 'Enabled' : 'Disabled'}</td>
                      <td>
                        <div className="row-actions">
                          <button type="button" className="button button-small" onClick={() => setLogOf(channel)} aria-label={`Delivery log of ${channel.name}`}>Log</button>
                          <button type="button" className="button button-small" onClick={() => setEditing(channel)} aria-label={`Edit ${channel.name}`}>Edit</button>
                          {channel.kind === 'webhook' && (
                            <button type="button" className="button button-small" onClick={() => setRotating(channel)} aria-label={`Rotate secret of ${channel.name}`}>Rotate secret</button>
                          )}
                          <button type="button" className="button button-small button-danger" onClick={() => setDeleting(channel)} aria-label={`Delete ${channel.name}`}>Delete</button>
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
      {logOf && <DeliveryLog channel={logOf} onClose={() => setLogOf(null)} />}
      <MaintenanceReminders channels={channels.data?.items ?? []} onSaved={notice.show} />
      {editing && (
        <ChannelDialog channel={editing === 'new' ? null : editing} onClose={() => setEditing(null)}
          onSaved={(saved, newSecret) => {
            setEditing(null);
            if (newSecret) setSecret({ channel: saved.name, value: newSecret });
            notice.show(editing === 'new' ? `Channel “${saved.name}” created.` : `Channel “${saved.name}” saved.`);
          }} />
      )}
      {deleting && <DeleteChannel channel={deleting} onClose={() => setDeleting(null)} onDone={() => { notice.show(`Channel “${deleting.name}” deleted.`); setDeleting(null); }} />}
      {rotating && <RotateSecret channel={rotating} onClose={() => setRotating(null)} onDone={(value) => { setSecret({ channel: rotating.name, value }); setRotating(null); }} />}
    </div>
  );
}

function DeleteChannel({ channel, onClose, onDone }: { channel: Channel; onClose: () => void; onDone: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api<void>(`/notification-channels/${channel.id}`, { method: 'DELETE' }),
    onSuccess: async () => { await queryClient.invalidateQueries({ queryKey: alertKeys.channels }); onDone(); },
  });
  return (
    <ConfirmDialog title={`Delete “${channel.name}”?`} confirmLabel="Delete channel" busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate()} onClose={onClose}>
      <p>Rules stop notifying it. Its delivery log is deleted with it.</p>
    </ConfirmDialog>
  );
}

function RotateSecret({ channel, onClose, onDone }: { channel: Channel; onClose: () => void; onDone: (secret: string) => void }) {
  const rotate = useMutation({
    mutationFn: () => api<{ channel: Channel; secret: string | null }>(`/notification-channels/${channel.id}/rotate-secret`, { method: 'POST' }),
    onSuccess: (result) => onDone(result.secret ?? ''),
  });
  return (
    <ConfirmDialog title={`New signing secret for “${channel.name}”?`} confirmLabel="Rotate secret" busy={rotate.isPending} error={rotate.error} onConfirm={() => rotate.mutate()} onClose={onClose}>
      <p>Requests are signed with the new secret from now on; the receiver must be given it, or it will refuse them.</p>
    </ConfirmDialog>
  );
}
