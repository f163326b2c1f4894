import { useMemo } from 'react';
import { useDeviceIndex, useSites } from '../api/queries';
import type { ReportKind } from '../api/reports';

export const KIND_LABELS: Record<ReportKind, string> = { speed_study: 'Speed study', compliance: 'Compliance (HACCP)', site_safety: 'Site safety' };
const DEVICE_KINDS: Record<ReportKind, string> = { speed_study: 'speed_radar', compliance: 'refrigeration', site_safety: 'camera' };
const SUBJECT_LABELS: Record<ReportKind, string> = { speed_study: 'Radar or site', compliance: 'Refrigeration unit or site', site_safety: 'Camera, site or the whole organization' };

/**
 * What a report is about, in the new-report and schedule dialogs: its kind, then a device of the
 * matching kind or a site (site-safety reports also the whole organization). `subject` is `device:<id>`,
 * `site:<id>`, `organization` or '' (none chosen yet).
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
  const wantedKind = DEVICE_KINDS[kind];
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
        <label htmlFor={`${idPrefix}-subject`}>{SUBJECT_LABELS[kind]}</label>
        <select id={`${idPrefix}-subject`} value={subject} onChange={(e) => onSubject(e.target.value)} aria-invalid={error ? true : undefined} aria-describedby={error ? errorId : undefined}>
          <option value="">Choose…</option>
          {kind === 'site_safety' && <option value="organization">The whole organization</option>}
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
