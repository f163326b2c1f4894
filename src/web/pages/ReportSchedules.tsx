import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError } from '../api/client';
import type { ReportKind } from '../api/reports';
import { createSchedule, deleteSchedule, scheduleKeys, sendScheduleNow, updateSchedule, useReportSchedules, type Cadence, type ReportSchedule, type ScheduleInput } from '../api/report-schedules';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { Notice, useNotice } from '../components/Notice';
import { Pager, useCursorPager } from '../components/Pager';
import { SecretReveal } from '../components/SecretReveal';
import { ErrorState, LoadingState } from '../components/states';
import { TextField } from '../components/TextField';
import { KIND_LABELS, ReportSubjectFields } from './ReportSubjectFields';
import { describePeriod, ScheduleRuns } from './ScheduleRuns';
import { formatTime } from '../lib/format';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const STATUS_LABELS: Record<string, string> = { generating: 'Generating', delivered: 'Delivered', retrying: 'Retrying', failed: 'Failed', skipped: 'Skipped (already sent)' };

function ordinal(day: number): string {
  const suffix = day % 10 === 1 && day !== 11 ? 'st' : day % 10 === 2 && day !== 12 ? 'nd' : day % 10 === 3 && day !== 13 ? 'rd' : 'th';
  return `${day}${suffix}`;
}

/** "Weekly on Monday at 06:00 (Europe/London)" */
export function describeCadence(s: Pick<ReportSchedule, 'cadence' | 'dayOfWeek' | 'dayOfMonth' | 'timeOfDay' | 'timezone'>): string {
  const day = s.cadence === 'weekly'
    ? `Weekly on ${WEEKDAYS[(s.dayOfWeek ?? 1) - 1]}`
    : `Monthly on the ${(s.dayOfMonth ?? 1) >= 29 ? `${ordinal(s.dayOfMonth ?? 1)} (or the month's last day)` : ordinal(s.dayOfMonth ?? 1)}`;
  return `${day} at ${s.timeOfDay} (${s.timezone})`;
}

function describeDelivery(s: ReportSchedule): string {
  const parts = [];
  if (s.emailRecipients.length) parts.push(s.emailRecipients.length === 1 ? s.emailRecipients[0]! : `${s.emailRecipients.length} email addresses`);
  if (s.webhookUrl) parts.push('webhook');
  return parts.join(' · ');
}

/** The Schedules section of `/reports`: weekly or monthly reports sent by email and/or webhook. */
export function ScheduleSection({ canWrite }: { canWrite: boolean }) {
  const pager = useCursorPager();
  const schedules = useReportSchedules(pager.cursor);
  const queryClient = useQueryClient();
  const notice = useNotice();
  const [editing, setEditing] = useState<ReportSchedule | 'new' | null>(null);
  const [deleting, setDeleting] = useState<ReportSchedule | null>(null);
  const [secret, setSecret] = useState<{ name: string; value: string } | null>(null);
  const [showingRuns, setShowingRuns] = useState<Set<string>>(new Set());
  const toggleRuns = (id: string) => setShowingRuns((shown) => {
    const next = new Set(shown);
    if (!next.delete(id)) next.add(id);
    return next;
  });
  const toggle = useMutation({
    mutationFn: (s: ReportSchedule) => updateSchedule(s.id, { enabled: !s.enabled }),
    onSuccess: async ({ schedule }) => {
      await queryClient.invalidateQueries({ queryKey: scheduleKeys.all });
      notice.show(`“${schedule.name}” ${schedule.enabled ? 'enabled' : 'disabled'}.`);
    },
  });

  const sendNow = useMutation({
    mutationFn: async (s: ReportSchedule) => ({ schedule: s, run: await sendScheduleNow(s.id) }),
    onSuccess: async ({ schedule, run }) => {
      await queryClient.invalidateQueries({ queryKey: scheduleKeys.all });
      setShowingRuns((shown) => new Set(shown).add(schedule.id));
      notice.show(`Sending “${schedule.name}” now: the report for ${describePeriod(run, schedule.timezone)} is being made, then goes to ${describeDelivery(schedule)}. It is listed with the reports.`);
    },
  });

  const saved = ({ schedule, webhookSecret }: { schedule: ReportSchedule; webhookSecret: string | null }) => {
    setEditing(null);
    notice.show(`“${schedule.name}” saved.`);
    if (webhookSecret) setSecret({ name: schedule.name, value: webhookSecret });
  };

  return (
    <section className="report-schedules" aria-labelledby="schedules-heading">
      <div className="section-header">
        <div>
          <h2 id="schedules-heading">Schedules</h2>
          <p className="muted">Reports made every week or month for the last full period, sent by email (PDF attached) or to a webhook.</p>
        </div>
        {canWrite && <button type="button" className="button" onClick={() => setEditing('new')}>New schedule</button>}
      </div>
      <Notice message={notice.message} />
      {toggle.error && <p className="form-error" role="alert">{toggle.error.message}</p>}
      {sendNow.error && <p className="form-error" role="alert">{sendNow.error.message}</p>}
      {secret && (
        <SecretReveal label={`Webhook signing secret of ${secret.name}`} value={secret.value}>
          <p>The webhook of “{secret.name}” signs each request with this secret (header <code>x-vigil-signature</code>).</p>
        </SecretReveal>
      )}
      {schedules.isPending && <LoadingState label="Loading schedules…" />}
      {schedules.isError && <ErrorState title="Schedules could not be loaded" error={schedules.error} onRetry={() => void schedules.refetch()} />}
      {schedules.data && schedules.data.items.length === 0 && <p className="muted">No schedules yet.</p>}
      {schedules.data && schedules.data.items.length > 0 && (
        <>
          <ul className="schedule-list" aria-label="Report schedules">
            {schedules.data.items.map((s) => (
              <li key={s.id} className="schedule-card">
                <div className="schedule-main">
                  <div className="schedule-name">{s.name}{!s.enabled && <span className="badge">Disabled</span>}</div>
                  <div className="muted small">{KIND_LABELS[s.kind]} · {describeCadence(s)}</div>
                  <div className="muted small">To {describeDelivery(s)}</div>
                </div>
                <dl className="schedule-runs small">
                  <div><dt>Last run</dt><dd>{s.lastRunAt ? `${formatTime(s.lastRunAt, s.timezone)} · ${STATUS_LABELS[s.lastStatus ?? ''] ?? s.lastStatus ?? '—'}` : 'Not yet'}</dd></div>
                  {s.lastError && <div><dt>Problem</dt><dd className="report-failed">{s.lastError}</dd></div>}
                  <div><dt>Next run</dt><dd>{s.nextRunAt ? formatTime(s.nextRunAt, s.timezone) : '—'}</dd></div>
                </dl>
                <div className="row-actions">
                  <button type="button" className="button button-small" onClick={() => toggleRuns(s.id)} aria-expanded={showingRuns.has(s.id)} aria-controls={`runs-${s.id}`} aria-label={`Runs: ${s.name}`}>Runs</button>
                  {canWrite && (
                    <>
                      <button type="button" className="button button-small" onClick={() => toggle.mutate(s)} disabled={toggle.isPending} aria-label={`${s.enabled ? 'Disable' : 'Enable'} ${s.name}`}>{s.enabled ? 'Disable' : 'Enable'}</button>
                      <button type="button" className="button button-small" onClick={() => sendNow.mutate(s)} disabled={sendNow.isPending} aria-label={`Send now: ${s.name}`}>Send now</button>
                      <button type="button" className="button button-small" onClick={() => setEditing(s)} aria-label={`Edit ${s.name}`}>Edit</button>
                      <button type="button" className="button button-small button-danger" onClick={() => setDeleting(s)} aria-label={`Delete ${s.name}`}>Delete</button>
                    </>
                  )}
                </div>
                {showingRuns.has(s.id) && <ScheduleRuns schedule={s} id={`runs-${s.id}`} />}
              </li>
            ))}
          </ul>
          <Pager label="Schedule pages" page={pager.page} nextCursor={schedules.data.nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={schedules.isPlaceholderData} />
        </>
      )}
      {editing && <ScheduleDialog schedule={editing === 'new' ? null : editing} onClose={() => setEditing(null)} onSaved={saved} />}
      {deleting && <DeleteScheduleDialog schedule={deleting} onClose={() => setDeleting(null)} onDeleted={() => { notice.show(`“${deleting.name}” deleted.`); setDeleting(null); }} />}
    </section>
  );
}

function ScheduleDialog({ schedule, onClose, onSaved }: { schedule: ReportSchedule | null; onClose: () => void; onSaved: (result: { schedule: ReportSchedule; webhookSecret: string | null }) => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(schedule?.name ?? '');
  const [kind, setKind] = useState<ReportKind>(schedule?.kind ?? 'speed_study');
  const [subject, setSubject] = useState(schedule ? (schedule.deviceId ? `device:${schedule.deviceId}` : schedule.siteId ? `site:${schedule.siteId}` : 'organization') : '');
  const [cadence, setCadence] = useState<Cadence>(schedule?.cadence ?? 'weekly');
  const [dayOfWeek, setDayOfWeek] = useState(schedule?.dayOfWeek ?? 1);
  const [dayOfMonth, setDayOfMonth] = useState(schedule?.dayOfMonth ?? 1);
  const [timeOfDay, setTimeOfDay] = useState(schedule?.timeOfDay ?? '06:00');
  const [timezone, setTimezone] = useState(schedule?.timezone ?? '');
  const [recipients, setRecipients] = useState(schedule?.emailRecipients.join(', ') ?? '');
  const [webhookUrl, setWebhookUrl] = useState(schedule?.webhookUrl ?? '');
  const [notes, setNotes] = useState(schedule?.notes ?? '');

  const save = useMutation({
    mutationFn: (input: ScheduleInput) => (schedule ? updateSchedule(schedule.id, input) : createSchedule(input)),
    onSuccess: async (result) => {
      await queryClient.invalidateQueries({ queryKey: scheduleKeys.all });
      onSaved(result);
    },
  });
  const serverError = save.error instanceof ApiError ? save.error : null;
  const fieldError = (field: string) => serverError?.fieldMessage(field);
  const fields = ['name', 'deviceId', 'siteId', 'dayOfWeek', 'dayOfMonth', 'timeOfDay', 'timezone', 'emailRecipients', 'webhookUrl', 'notes'];
  const otherError = save.error && !(serverError && serverError.details.some((d) => fields.some((f) => d.field.startsWith(f)))) ? save.error : null;
  const subjectError = fieldError('deviceId') ?? fieldError('siteId');

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const [type, id] = subject.split(':');
    save.mutate({
      name: name.trim(), kind, cadence, timeOfDay,
      deviceId: type === 'device' ? id! : null,
      siteId: type === 'site' ? id! : null,
      dayOfWeek: cadence === 'weekly' ? dayOfWeek : null,
      dayOfMonth: cadence === 'monthly' ? dayOfMonth : null,
      timezone: timezone.trim() || null,
      notes: kind === 'speed_study' && notes.trim() ? notes.trim() : null,
      emailRecipients: recipients.split(/[\s,;]+/).filter(Boolean),
      webhookUrl: webhookUrl.trim() || null,
      enabled: schedule?.enabled ?? true,
    });
  };

  return (
    <Dialog title={schedule ? `Edit ${schedule.name}` : 'New schedule'} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <TextField id="schedule-name" label="Name" value={name} maxLength={100} required onChange={(e) => setName(e.target.value)} error={fieldError('name')} />
        <ReportSubjectFields idPrefix="schedule" kind={kind} onKind={setKind} subject={subject} onSubject={setSubject} error={subjectError} />
        <div className="field-row">
          <div className="field">
            <label htmlFor="schedule-cadence">Every</label>
            <select id="schedule-cadence" value={cadence} onChange={(e) => setCadence(e.target.value as Cadence)} aria-describedby="schedule-cadence-hint">
              <option value="weekly">Week</option>
              <option value="monthly">Month</option>
            </select>
            <span className="field-hint" id="schedule-cadence-hint">Each report covers the previous full {cadence === 'weekly' ? 'week, Monday to Sunday' : 'calendar month'}.</span>
          </div>
          {cadence === 'weekly' ? (
            <div className="field">
              <label htmlFor="schedule-day">On</label>
              <select id="schedule-day" value={dayOfWeek} onChange={(e) => setDayOfWeek(Number(e.target.value))}>
                {WEEKDAYS.map((day, i) => <option key={day} value={i + 1}>{day}</option>)}
              </select>
            </div>
          ) : (
            <div className="field">
              <label htmlFor="schedule-day">On day</label>
              <select id="schedule-day" value={dayOfMonth} onChange={(e) => setDayOfMonth(Number(e.target.value))} aria-describedby="schedule-day-hint">
                {Array.from({ length: 31 }, (_, i) => <option key={i} value={i + 1}>{i + 1}</option>)}
              </select>
              <span className="field-hint" id="schedule-day-hint">29–31: the last day of shorter months.</span>
            </div>
          )}
        </div>
        <div className="field-row">
          <TextField id="schedule-time" label="At (local time)" type="time" value={timeOfDay} onChange={(e) => setTimeOfDay(e.target.value)} error={fieldError('timeOfDay')} />
          <TextField id="schedule-timezone" label="Time zone" value={timezone} placeholder="The site's" onChange={(e) => setTimezone(e.target.value)} error={fieldError('timezone')} hint="e.g. Europe/London; empty: the site's or organization's." />
        </div>
        <TextField id="schedule-recipients" label="Email to" value={recipients} type="text" inputMode="email" autoComplete="off" onChange={(e) => setRecipients(e.target.value)} error={fieldError('emailRecipients')} hint="Addresses separated by commas; each gets the PDF attached." />
        <TextField id="schedule-webhook" label="Webhook URL" value={webhookUrl} type="url" onChange={(e) => setWebhookUrl(e.target.value)} error={fieldError('webhookUrl')} hint="Optional: a signed JSON POST with a download link (see the docs)." />
        {kind === 'speed_study' && <TextField id="schedule-notes" label="Calibration and notes" value={notes} maxLength={2000} onChange={(e) => setNotes(e.target.value)} error={fieldError('notes')} />}
        {otherError && <p className="form-error" role="alert">{otherError.message}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button-primary" disabled={save.isPending}>{save.isPending ? 'Saving…' : schedule ? 'Save schedule' : 'Create schedule'}</button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteScheduleDialog({ schedule, onClose, onDeleted }: { schedule: ReportSchedule; onClose: () => void; onDeleted: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => deleteSchedule(schedule.id),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: scheduleKeys.all });
      onDeleted();
    },
  });
  return (
    <ConfirmDialog title={`Delete ${schedule.name}?`} confirmLabel="Delete schedule" busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate()} onClose={onClose}>
      <p>No more reports will be made or sent by it. The reports it already made stay. This is recorded in the audit log.</p>
    </ConfirmDialog>
  );
}
