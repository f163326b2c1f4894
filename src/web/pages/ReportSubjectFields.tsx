import { useMemo } from 'react';
import { useDeviceIndex, useSites } from '../api/queries';
import type { ReportKind } from '../api/reports';

export const KIND_LABELS: Record<ReportKind, string> = { speed_study: 'Speed study', compliance: 'Compliance (HACCP)' };

/**
 * What a report is about, in the new-report and schedule dialogs: its kind, then a device of the
 * matching kind or a site. `subject` is `device:<id>`, `site:<id>` or '' (none chosen yet).
 */
export function ReportSubjectFields({ idPrefix, kind, onKind, subject, onSubject, error }: {
  idPrefix: string;
  kind: ReportKind;
  onKind: (kind: ReportKind) => void;
  subject: string;
  onSubject: (subject: string) => void;
  error: string | undefined;
}) {
  const devices = useDeviceIndex();
  const sites = useSites();
  const wantedKind = kind === 'speed_study' ? 'speed_radar' : 'refrigeration';
  const choices = useMemo(() => (devices.data ?? []).filter((d) => d.kind === wantedKind), [devices.data, wantedKind]);
  const errorId = `${idPrefix}-subject-error`;
  return (
    <>
      <fieldset className="radio-group">
        <legend>Kind</legend>
        {(Object.keys(KIND_LABELS) as ReportKind[]).map((k) => (
          <label key={k}>
            <input type="radio" name={`${idPrefix}-kind`} value={k} checked={kind === k} onChange={() => { onKind(k); onSubject(''); }} /> {KIND_LABELS[k]}
          </label>
        ))}
      </fieldset>
      <div className="field">
        <label htmlFor={`${idPrefix}-subject`}>{kind === 'speed_study' ? 'Radar or site' : 'Refrigeration unit or site'}</label>
        <select id={`${idPrefix}-subject`} value={subject} onChange={(e) => onSubject(e.target.value)} aria-invalid={error ? true : undefined} aria-describedby={error ? errorId : undefined}>
          <option value="">Choose…</option>
          <optgroup label="Devices">
            {choices.map((d) => <option key={d.id} value={`device:${d.id}`}>{d.name} ({d.serial})</option>)}
          </optgroup>
          <optgroup label="Sites">
            {[...(sites.data?.values() ?? [])].map((s) => <option key={s.id} value={`site:${s.id}`}>{s.name}</option>)}
          </optgroup>
        </select>
        {devices.isPending && <span className="field-hint">Loading devices…</span>}
        {error && <span id={errorId} className="field-error" role="alert">{error}</span>}
      </div>
    </>
  );
}
