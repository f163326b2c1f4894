import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { alertKeys, type Channel, type ChannelInput, type ChannelKind, type DigestSchedule } from '../../api/alerts';
import { ApiError, api } from '../../api/client';
import { Dialog } from '../../components/Dialog';
import { TextField } from '../../components/TextField';

const FIELDS = ['name', 'kind', 'recipients', 'url', 'quietHours', 'quietHours.from', 'quietHours.to', 'digest', 'digest.minutes', 'digest.at', 'enabled'];

type Delivery = 'now' | 'minutes' | 'hourly' | 'daily';

function deliveryOf(digest: DigestSchedule | null | undefined): Delivery {
  if (!digest) return 'now';
  if (digest.every === 'day') return 'daily';
  return digest.minutes === 60 ? 'hourly' : 'minutes';
}

function digestOf(delivery: Delivery, minutes: string, at: string): DigestSchedule | null {
  switch (delivery) {
    case 'now': return null;
    case 'hourly': return { every: 'minutes', minutes: 60 };
    case 'minutes': return { every: 'minutes', minutes: Number(minutes) };
    case 'daily': return { every: 'day', at };
  }
}

/** Create or edit a notification channel; a new webhook's signing secret comes back once. */
export function ChannelDialog({ channel, onClose, onSaved }: { channel: Channel | null; onClose: () => void; onSaved: (channel: Channel, secret: string | null) => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(channel?.name ?? '');
  const [kind, setKind] = useState<ChannelKind>(channel?.kind ?? 'email');
  const [recipients, setRecipients] = useState(channel?.recipients.join(', ') ?? '');
  const [url, setUrl] = useState(channel?.url ?? '');
  const [quiet, setQuiet] = useState(channel?.quietHours !== null && channel !== null);
  const [from, setFrom] = useState(channel?.quietHours?.from ?? '22:00');
  const [to, setTo] = useState(channel?.quietHours?.to ?? '07:00');
  const [delivery, setDelivery] = useState<Delivery>(deliveryOf(channel?.digest));
  const [digestMinutes, setDigestMinutes] = useState(channel?.digest?.every === 'minutes' ? String(channel.digest.minutes) : '30');
  const [digestAt, setDigestAt] = useState(channel?.digest?.every === 'day' ? channel.digest.at : '08:00');
  const [enabled, setEnabled] = useState(channel?.enabled ?? true);
  const [local, setLocal] = useState<Record<string, string>>({});

  const save = useMutation({
    mutationFn: async (input: ChannelInput) => {
      if (channel) return { channel: await api<Channel>(`/notification-channels/${channel.id}`, { method: 'PATCH', body: input }), secret: null };
      return api<{ channel: Channel; secret: string | null }>('/notification-channels', { method: 'POST', body: input });
    },
    onSuccess: async (result) => {
      await queryClient.invalidateQueries({ queryKey: alertKeys.channels });
      onSaved(result.channel, result.secret);
    },
  });
  const server = save.error instanceof ApiError ? save.error : null;
  const fieldError = (field: string) => local[field] ?? server?.details.find((d) => d.field === field || d.field.startsWith(`${field}.`))?.message;
  const other = save.error && !(server && server.details.some((d) => FIELDS.includes(d.field) || d.field.startsWith('recipients'))) ? save.error.message : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const list = recipients.split(/[\s,;]+/).map((r) => r.trim()).filter(Boolean);
    const problems: Record<string, string> = {};
    if (!name.trim()) problems.name = 'Enter a name.';
    if (kind === 'email' && list.length === 0) problems.recipients = 'Enter at least one email address.';
    if (kind === 'webhook' && !url.trim()) problems.url = 'Enter the receiver\'s URL.';
    const minutes = Number(digestMinutes);
    if (kind !== 'in_app' && delivery === 'minutes' && !(Number.isInteger(minutes) && minutes >= 5 && minutes <= 1440)) problems['digest.minutes'] = 'Enter whole minutes from 5 to 1440.';
    setLocal(problems);
    if (Object.keys(problems).length > 0) return;
    save.mutate({
      name: name.trim(),
      ...(channel ? {} : { kind }),
      ...(kind === 'email' ? { recipients: list } : {}),
      ...(kind === 'webhook' ? { url: url.trim() } : {}),
      quietHours: quiet ? { from, to } : null,
      digest: kind === 'in_app' ? null : digestOf(delivery, digestMinutes, digestAt),
      enabled,
    });
  };

  return (
    <Dialog title={channel ? `Edit “${channel.name}”` : 'New channel'} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <TextField id="channel-name" label="Name" value={name} onChange={(e) => setName(e.target.value)} error={fieldError('name')} required maxLength={200} />
        <div className="field">
          <label htmlFor="channel-kind">Kind</label>
          <select id="channel-kind" value={kind} disabled={Boolean(channel)} onChange={(e) => setKind(e.target.value as ChannelKind)}>
            <option value="email">Email</option>
            <option value="webhook">Webhook (signed JSON POST)</option>
            <option value="in_app">In the console</option>
          </select>
        </div>
        {kind === 'email' && (
          <TextField id="channel-recipients" label="Recipients" value={recipients} onChange={(e) => setRecipients(e.target.value)} error={fieldError('recipients')}
            hint="Email addresses, separated by commas." placeholder="ops@example.com, manager@example.com" />
        )}
        {kind === 'webhook' && (
          <TextField id="channel-url" label="URL" type="url" value={url} onChange={(e) => setUrl(e.target.value)} error={fieldError('url')}
            hint={channel ? undefined : 'The signing secret is shown once after saving.'} placeholder="https://example.com/hooks/vigil" />
        )}
        {kind !== 'in_app' && (
          <div className="field-row">
            <div className="field">
              <label htmlFor="channel-delivery">Delivery</label>
              <select id="channel-delivery" value={delivery} onChange={(e) => setDelivery(e.target.value as Delivery)} aria-describedby="channel-delivery-hint">
                <option value="now">Immediately, one message each</option>
                <option value="minutes">Digest every few minutes</option>
                <option value="hourly">Digest every hour</option>
                <option value="daily">Digest once a day</option>
              </select>
              <span id="channel-delivery-hint" className="field-hint">{delivery === 'now'
                ? 'Each alert change and reminder is sent as it happens.'
                : 'One summary per window; nothing is sent for an empty window. Critical alerts still go out at once.'}</span>
              {fieldError('digest') && !fieldError('digest.minutes') && !fieldError('digest.at') && <span className="field-error" role="alert">{fieldError('digest')}</span>}
            </div>
            {delivery === 'minutes' && (
              <TextField id="channel-digest-minutes" label="Every (minutes)" type="number" min={5} max={1440} value={digestMinutes}
                onChange={(e) => setDigestMinutes(e.target.value)} error={fieldError('digest.minutes')} />
            )}
            {delivery === 'daily' && (
              <TextField id="channel-digest-at" label="At (organization time)" type="time" value={digestAt} onChange={(e) => setDigestAt(e.target.value)} error={fieldError('digest.at')} />
            )}
          </div>
        )}
        <div className="field field-checkbox">
          <input id="channel-quiet" type="checkbox" checked={quiet} onChange={(e) => setQuiet(e.target.checked)} />
          <label htmlFor="channel-quiet">Quiet hours (non-critical alerts wait until they end)</label>
        </div>
        {quiet && (
          <div className="field-row">
            <TextField id="channel-quiet-from" label="Quiet from" type="time" value={from} onChange={(e) => setFrom(e.target.value)} error={fieldError('quietHours.from')} />
            <TextField id="channel-quiet-to" label="Quiet until" type="time" value={to} onChange={(e) => setTo(e.target.value)} error={fieldError('quietHours.to')} />
          </div>
        )}
        <div className="field field-checkbox">
          <input id="channel-enabled" type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
          <label htmlFor="channel-enabled">Enabled</label>
        </div>
        {other && <p className="form-error" role="alert">{other}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button-primary" disabled={save.isPending}>{save.isPending ? 'Saving…' : channel ? 'Save changes' : 'Create channel'}</button>
        </div>
      </form>
    </Dialog>
  );
}
