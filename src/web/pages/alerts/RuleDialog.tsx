import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { alertKeys, SEVERITIES, SEVERITY_LABELS, useChannels, type Rule, type RulePreview } from '../../api/alerts';
import { ApiError, api } from '../../api/client';
import { useSites } from '../../api/queries';
import { Dialog } from '../../components/Dialog';
import { TextField } from '../../components/TextField';
import { useSession } from '../../components/session';
import { may } from '../../lib/access';
import { useDisplayContext } from '../../lib/display';
import { KIND_LABELS } from '../../lib/format';
import { conditionFor, useDeviceMetricTypes } from './metric-types';
import { PreviewResult } from './RulePreview';
import { CONDITION_LABELS, DAY_NAMES, draftOf, emptyDraft, inputOf, localProblems, NUMERIC_CONDITIONS, operatorChoices, withCondition, type FormCondition, type RuleDraft } from './rule-draft';

const FIELDS = ['name', 'scope', 'siteId', 'deviceId', 'deviceKind', 'condition', 'metric', 'eventKind', 'operator', 'textValue', 'threshold', 'thresholdHigh', 'clearThreshold',
  'clearThresholdHigh', 'durationSeconds', 'severity', 'messageTemplate', 'activeHours', 'activeHours.days', 'activeHours.from', 'activeHours.to', 'channelIds', 'escalateAfterMinutes'];
const COMMON_METRICS = ['temperature', 'pressure', 'door', 'humidity', 'compressor', 'heater', 'fan', 'battery', 'voltage', 'fps'];

/** Create or edit a rule, with the server's complaints at their fields and a preview over the last week. */
export function RuleDialog({ rule, onClose, onSaved }: { rule: Rule | null; onClose: () => void; onSaved: (rule: Rule, created: boolean) => void }) {
  const { me } = useSession();
  const queryClient = useQueryClient();
  const display = useDisplayContext();
  const sites = useSites();
  const channels = useChannels(may(me, 'notification.read'));
  // A member limited to some sites writes only site and device rules.
  const restricted = Boolean(me.organization?.siteIds);
  const [draft, setDraft] = useState<RuleDraft>(() => (rule ? draftOf(rule) : { ...emptyDraft(), scope: restricted ? 'site' : 'organization' }));
  const [local, setLocal] = useState<Record<string, string>>({});
  const set = <K extends keyof RuleDraft>(key: K, value: RuleDraft[K]) =>
    setDraft((d) => (key === 'condition' ? withCondition(d, value as FormCondition) : { ...d, [key]: value }));
  // A device rule on a key that device sends as text (or as numbers) gets the operators that suit it, also
  // when the device's keys arrive after the metric was typed.
  const metricTypes = useDeviceMetricTypes(draft.scope === 'device' && draft.deviceId ? draft.deviceId : null);
  const metricType = metricTypes.get(draft.metric.trim());
  useEffect(() => {
    const suited = conditionFor(metricType, draft.condition);
    if (suited) setDraft((d) => withCondition(d, suited));
  }, [metricType, draft.condition]);

  const save = useMutation({
    mutationFn: () => {
      const input = inputOf(draft);
      if (!rule) return api<Rule>('/alert-rules', { method: 'POST', body: input });
      const { scope: _scope, ...patch } = input;
      return api<Rule>(`/alert-rules/${rule.id}`, { method: 'PATCH', body: patch });
    },
    onSuccess: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: alertKeys.rules });
      onSaved(saved, !rule);
    },
  });
  const previewRef = useRef<HTMLDivElement>(null);
  const preview = useMutation({
    mutationFn: () => api<RulePreview>('/alert-rules/preview', { method: 'POST', body: inputOf(draft) }),
    onSuccess: () => requestAnimationFrame(() => previewRef.current?.scrollIntoView({ block: 'nearest' })),
  });

  const error = save.error ?? preview.error;
  const server = error instanceof ApiError ? error : null;
  const fieldError = (field: string) => local[field] ?? server?.details.find((d) => d.field === field || d.field.startsWith(`${field}.`))?.message;
  const other = error && !(server && server.details.some((d) => FIELDS.includes(d.field))) ? error.message : null;

  const check = () => {
    const problems = localProblems(draft);
    setLocal(problems);
    return Object.keys(problems).length === 0;
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    preview.reset();
    if (check()) save.mutate();
  };
  const runPreview = () => {
    save.reset();
    if (check()) preview.mutate();
  };

  const numeric = NUMERIC_CONDITIONS.includes(draft.condition);
  const range = numeric && draft.operator === 'outside';
  const valueTest = numeric || draft.condition === 'flag' || draft.condition === 'text';
  // A change is an instant: it has no duration, and with auto-resolve each one is a notice that resolves at once.
  const change = draft.condition === 'text' && draft.operator === 'changes';
  const select = (id: keyof RuleDraft & string, field: string, label: string, options: ReactNode, disabled = false) => (
    <div className="field">
      <label htmlFor={`rule-${id}`}>{label}</label>
      <select id={`rule-${id}`} value={String(draft[id])} disabled={disabled} onChange={(e) => set(id, e.target.value as never)}
        aria-invalid={fieldError(field) ? true : undefined} aria-describedby={fieldError(field) ? `rule-${id}-error` : undefined}>
        {options}
      </select>
      {fieldError(field) && <span className="field-error" id={`rule-${id}-error`} role="alert">{fieldError(field)}</span>}
    </div>
  );
  const input = (id: keyof RuleDraft & string, field: string, label: string, props: Record<string, unknown> = {}) => (
    <TextField id={`rule-${id}`} label={label} value={String(draft[id])} onChange={(e) => set(id, e.target.value as never)} error={fieldError(field)} {...props} />
  );
  const siteList = [...(sites.data?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const devices = [...display.devices].sort((a, b) => a.name.localeCompare(b.name));

  return (
    <Dialog title={rule ? `Edit “${rule.name}”` : 'New alert rule'} onClose={onClose} wide>
      <form onSubmit={submit} noValidate>
        {input('name', 'name', 'Name', { required: true, maxLength: 200, placeholder: 'e.g. Cold room too warm' })}
        <fieldset className="fieldset">
          <legend>Which devices</legend>
          <div className="field-row">
            {select('scope', 'scope', 'Scope', <>
              {me.user.isSuperadmin && <option value="global">Every organization (global)</option>}
              {(!restricted || rule) && <option value="organization">The whole organization</option>}
              <option value="site">One site</option>
              <option value="device">One device</option>
            </>, Boolean(rule))}
            {draft.scope === 'site' && select('siteId', 'siteId', 'Site', <>
              <option value="">Choose a site</option>
              {siteList.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
            </>)}
            {draft.scope === 'device' && select('deviceId', 'deviceId', 'Device', <>
              <option value="">Choose a device</option>
              {devices.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
            </>)}
            {select('deviceKind', 'deviceKind', 'Only devices of kind', <>
              <option value="">Any kind</option>
              {Object.entries(KIND_LABELS).map(([kind, label]) => <option key={kind} value={kind}>{label}</option>)}
            </>)}
          </div>
        </fieldset>
        <fieldset className="fieldset">
          <legend>Condition</legend>
          {select('condition', 'condition', 'When', Object.entries(CONDITION_LABELS).map(([c, label]) => <option key={c} value={c}>{label}</option>))}
          <div className="field-row">
            {(valueTest || draft.condition === 'no_data') && input('metric', 'metric', draft.condition === 'event' ? 'Event field' : 'Metric', {
              list: 'rule-metrics',
              placeholder: draft.condition === 'event' ? 'speed, speedOverLimit, attributes.<name>' : draft.condition === 'text' ? 'currentFirmwareVersion' : draft.condition === 'flag' ? 'alarm' : 'temperature',
            })}
            {draft.condition === 'event' && input('eventKind', 'eventKind', 'Event kind (optional)', { placeholder: 'Any kind' })}
            {valueTest && select('operator', 'operator', 'Is', operatorChoices(draft.condition).map(([o, label]) => <option key={o} value={o}>{label}</option>))}
            {draft.condition === 'text' && !change && input('textValue', 'textValue', 'Text', { maxLength: 256, hint: 'Compared exactly: upper and lower case and spaces count.' })}
          </div>
          <datalist id="rule-metrics">{[...new Set([...metricTypes.keys(), ...COMMON_METRICS])].map((m) => <option key={m} value={m} />)}</datalist>
          {numeric && (
            <div className="field-row">
              {input('threshold', 'threshold', range ? 'Low limit' : 'Threshold', { inputMode: 'decimal' })}
              {range && input('thresholdHigh', 'thresholdHigh', 'High limit', { inputMode: 'decimal' })}
              {draft.operator !== 'eq' && draft.operator !== 'ne' && input('clearThreshold', 'clearThreshold', range ? 'Clears above (optional)' : 'Clears past (optional)', {
                inputMode: 'decimal', hint: 'Hysteresis: the alert clears only once the value is back past this. Default: the threshold.',
              })}
              {range && input('clearThresholdHigh', 'clearThresholdHigh', 'Clears below (optional)', { inputMode: 'decimal' })}
            </div>
          )}
          {!change && (
            <div className="field-row">
              {input('duration', 'durationSeconds', draft.condition === 'offline' || draft.condition === 'no_data' ? 'Silent for' : 'For at least', { inputMode: 'decimal' })}
              {select('durationUnit', 'durationUnit', 'Unit', <><option value="seconds">seconds</option><option value="minutes">minutes</option><option value="hours">hours</option></>)}
            </div>
          )}
        </fieldset>
        <fieldset className="fieldset">
          <legend>Alert</legend>
          {select('severity', 'severity', 'Severity', SEVERITIES.map((s) => <option key={s} value={s}>{SEVERITY_LABELS[s]}</option>))}
          {input('messageTemplate', 'messageTemplate', 'Message (optional)', {
            maxLength: 500, placeholder: '{{device}}: {{metric}} is {{value}} (threshold {{threshold}})',
            hint: 'Placeholders: {{value}} {{threshold}} {{clearThreshold}} {{peak}} {{previous}} {{metric}} {{device}} {{serial}} {{rule}} {{severity}} {{duration}}',
          })}
          <div className="field field-checkbox">
            <input id="rule-active-hours" type="checkbox" checked={draft.activeHoursOn} onChange={(e) => set('activeHoursOn', e.target.checked)} />
            <label htmlFor="rule-active-hours">Only during active hours (in each device's time zone)</label>
          </div>
          {draft.activeHoursOn && (
            <>
              <div className="day-picker" role="group" aria-label="Active days">
                {DAY_NAMES.map((name, index) => (
                  <label key={name}>
                    <input type="checkbox" checked={draft.days.includes(index + 1)}
                      onChange={(e) => set('days', e.target.checked ? [...draft.days, index + 1] : draft.days.filter((d) => d !== index + 1))} />
                    {name}
                  </label>
                ))}
              </div>
              {fieldError('activeHours.days') && <p className="field-error" role="alert">{fieldError('activeHours.days')}</p>}
              <div className="field-row">
                {input('from', 'activeHours.from', 'From', { type: 'time' })}
                {input('to', 'activeHours.to', 'To', { type: 'time', hint: 'Before “From” means the window crosses midnight.' })}
              </div>
            </>
          )}
          <div className="field field-checkbox">
            <input id="rule-auto-resolve" type="checkbox" checked={draft.autoResolve} onChange={(e) => set('autoResolve', e.target.checked)} />
            <label htmlFor="rule-auto-resolve">{change ? 'Each change is a notice that resolves at once (else one alert stays open and counts the changes)' : 'Resolve by itself when the value comes back'}</label>
          </div>
          <div className="field field-checkbox">
            <input id="rule-enabled" type="checkbox" checked={draft.enabled} onChange={(e) => set('enabled', e.target.checked)} />
            <label htmlFor="rule-enabled">Enabled</label>
          </div>
        </fieldset>
        <fieldset className="fieldset">
          <legend>Notify</legend>
          {!may(me, 'notification.read') ? (
            <p className="muted small">Administrators choose the notification channels of a rule.{draft.channelIds.length > 0 ? ` This rule notifies ${draft.channelIds.length} channel(s).` : ''}</p>
          ) : channels.isError ? (
            <p className="muted small">Channels could not be loaded.</p>
          ) : (channels.data?.items.length ?? 0) === 0 ? (
            <p className="muted small">{channels.isPending ? 'Loading channels…' : 'No notification channels yet: alerts show in the console only.'}</p>
          ) : (
            <div className="day-picker" role="group" aria-label="Notification channels">
              {channels.data!.items.map((c) => (
                <label key={c.id}>
                  <input type="checkbox" checked={draft.channelIds.includes(c.id)}
                    onChange={(e) => set('channelIds', e.target.checked ? [...draft.channelIds, c.id] : draft.channelIds.filter((id) => id !== c.id))} />
                  {c.name}
                </label>
              ))}
            </div>
          )}
          {fieldError('channelIds') && <p className="field-error" role="alert">{fieldError('channelIds')}</p>}
        </fieldset>
        {other && <p className="form-error" role="alert">{other}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="button" className="button" onClick={runPreview} disabled={preview.isPending}>{preview.isPending ? 'Previewing…' : 'Preview last 7 days'}</button>
          <button type="submit" className="button button-primary" disabled={save.isPending}>{save.isPending ? 'Saving…' : rule ? 'Save changes' : 'Create rule'}</button>
        </div>
        <div ref={previewRef}>{preview.data && <PreviewResult preview={preview.data} />}</div>
      </form>
    </Dialog>
  );
}
