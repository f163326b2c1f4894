import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { Channel } from '../../api/alerts';
import { api } from '../../api/client';
import { maintenanceSettingsKey, useMaintenanceSettings, type MaintenanceSettings } from '../../api/maintenance';
import { ErrorState, LoadingState } from '../../components/states';

/** On the notifications page: how many days ahead maintenance reminders go out, and through which channels. */
export function MaintenanceReminders({ channels, onSaved }: { channels: Channel[]; onSaved: (message: string) => void }) {
  const settings = useMaintenanceSettings();
  return (
    <section className="panel" aria-labelledby="maintenance-reminders-heading">
      <div className="panel-header"><h2 id="maintenance-reminders-heading">Maintenance reminders</h2></div>
      {settings.isPending ? <LoadingState label="Loading settings…" />
        : settings.isError ? <ErrorState title="Settings could not be loaded" error={settings.error} onRetry={() => void settings.refetch()} />
          : <ReminderForm key={JSON.stringify(settings.data)} saved={settings.data} channels={channels} onSaved={onSaved} />}
    </section>
  );
}

function ReminderForm({ saved, channels, onSaved }: { saved: MaintenanceSettings; channels: Channel[]; onSaved: (message: string) => void }) {
  const queryClient = useQueryClient();
  const [days, setDays] = useState(String(saved.reminderDays));
  const [everyChannel, setEveryChannel] = useState(saved.channelIds === null);
  const [chosen, setChosen] = useState(new Set(saved.channelIds ?? []));
  const [daysError, setDaysError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (body: MaintenanceSettings) => api<MaintenanceSettings>('/maintenance/settings', { method: 'PUT', body }),
    onSuccess: (result) => { queryClient.setQueryData(maintenanceSettingsKey, result); onSaved('Maintenance reminder settings saved.'); },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const reminderDays = Number(days);
    if (days.trim() === '' || !Number.isInteger(reminderDays) || reminderDays < 0 || reminderDays > 365) {
      setDaysError('Enter whole days from 0 to 365.');
      return;
    }
    setDaysError(null);
    save.mutate({ reminderDays, channelIds: everyChannel ? null : channels.filter((c) => chosen.has(c.id)).map((c) => c.id) });
  };
  const toggle = (id: string, on: boolean) => setChosen((current) => {
    const next = new Set(current);
    if (on) next.add(id);
    else next.delete(id);
    return next;
  });
  return (
    <form onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor="reminder-days">Days before the due date</label>
        <input id="reminder-days" type="number" inputMode="numeric" min={0} max={365} value={days} required onChange={(e) => setDays(e.target.value)}
          aria-invalid={daysError ? true : undefined} aria-describedby={daysError ? 'reminder-days-hint reminder-days-error' : 'reminder-days-hint'} />
        <p className="field-hint" id="reminder-days-hint">A reminder goes out this many days before a unit's next maintenance is due, and a notice once it is overdue.</p>
        {daysError && <span id="reminder-days-error" className="field-error" role="alert">{daysError}</span>}
      </div>
      <fieldset className="radio-group">
        <legend>Send them to</legend>
        <label><input type="radio" name="reminder-channels" checked={everyChannel} onChange={() => setEveryChannel(true)} /> Every enabled channel</label>
        <label><input type="radio" name="reminder-channels" checked={!everyChannel} onChange={() => setEveryChannel(false)} /> Only these channels</label>
      </fieldset>
      {!everyChannel && (
        channels.length === 0
          ? <p className="muted">No channels yet: reminders go nowhere until one is added and chosen here.</p>
          : (
            <fieldset className="radio-group">
              <legend className="visually-hidden">Channels for maintenance reminders</legend>
              {channels.map((channel) => (
                <label key={channel.id}>
                  <input type="checkbox" checked={chosen.has(channel.id)} onChange={(e) => toggle(channel.id, e.target.checked)} /> {channel.name}
                  {!channel.enabled && <span className="muted small"> (disabled)</span>}
                </label>
              ))}
            </fieldset>
          )
      )}
      {save.error && <p className="form-error" role="alert">{save.error.message}</p>}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={save.isPending}>Save reminder settings</button>
      </div>
    </form>
  );
}
