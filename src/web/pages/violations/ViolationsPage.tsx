import { useState } from 'react';
import { NavLink, useSearchParams } from 'react-router';
import { useSites } from '../../api/queries';
import { VIOLATION_KIND_LABELS, VIOLATION_KINDS, VIOLATION_SEVERITIES, violationsCsvUrl, type ViolationFilter, type ViolationKind } from '../../api/violations';
import { browserZone, humanize } from '../../lib/format';
import { useDisplayContext } from '../../lib/display';
import { useUpdateSearchParams } from '../../lib/params';
import { useTitle } from '../../lib/title';
import { ViolationList } from './ViolationList';
import './violations.css';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuidParam = (value: string | null) => (value && UUID.test(value) ? value : undefined);

/** A datetime-local value (the browser's zone) as an ISO timestamp; undefined when empty or not a date. */
function isoOf(local: string | null): string | undefined {
  if (!local) return undefined;
  const time = new Date(local).getTime();
  return Number.isFinite(time) ? new Date(time).toISOString() : undefined;
}

/** The feed's and the statistics' tabs. */
export function SafetyTabs() {
  return (
    <nav className="tabs safety-tabs" aria-label="Safety">
      <NavLink to="/violations" end>Violations</NavLink>
      <NavLink to="/violations/statistics">Statistics</NavLink>
    </nav>
  );
}

/**
 * `/violations`: safety violations from the cameras (PPE and zone breaches), newest first, live from the
 * stream. The filter lives in the address; the CSV export takes the same filter.
 */
export function ViolationsPage() {
  useTitle('Violations');
  const [params] = useSearchParams();
  const kind = params.get('kind');
  const acknowledged = params.get('acknowledged');
  const filter: ViolationFilter = {
    kind: VIOLATION_KINDS.includes(kind as ViolationKind) ? (kind as ViolationKind) : undefined,
    deviceId: uuidParam(params.get('cameraId')),
    siteId: uuidParam(params.get('siteId')),
    severity: VIOLATION_SEVERITIES.find((s) => s === params.get('severity')),
    from: isoOf(params.get('from')),
    to: isoOf(params.get('to')),
    acknowledged: acknowledged === 'true' ? true : acknowledged === 'false' ? false : undefined,
  };
  const [filtersOpen, setFiltersOpen] = useState(false);
  const activeFilters = Object.values(filter).filter((v) => v !== undefined).length;
  const sites = useSites();
  const siteList = [...(sites.data?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const cameras = useDisplayContext().devices.filter((d) => d.kind === 'camera').sort((a, b) => a.name.localeCompare(b.name));
  const rangeInvalid = Boolean(filter.from && filter.to && filter.from >= filter.to);
  const updateParams = useUpdateSearchParams();
  const update = (name: string, value: string | null) => updateParams({ [name]: value });

  return (
    <div className="page page-violations">
      <header className="page-header">
        <h1>Violations</h1>
        <a className="button" href={violationsCsvUrl(filter)} download>Export CSV</a>
      </header>
      <SafetyTabs />
      <button type="button" className="button filters-toggle" aria-expanded={filtersOpen} aria-controls="violation-filters" onClick={() => setFiltersOpen((o) => !o)}>
        Filters{activeFilters > 0 ? ` (${activeFilters})` : ''}
      </button>
      <form id="violation-filters" className={`filters filters-collapsible${filtersOpen ? ' open' : ''}`} aria-label="Filter violations" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="violation-camera">Camera</label>
          <select id="violation-camera" value={filter.deviceId ?? ''} onChange={(e) => update('cameraId', e.target.value || null)}>
            <option value="">All cameras</option>
            {filter.deviceId && !cameras.some((c) => c.id === filter.deviceId) && <option value={filter.deviceId}>This camera</option>}
            {cameras.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="violation-site">Site</label>
          <select id="violation-site" value={filter.siteId ?? ''} onChange={(e) => update('siteId', e.target.value || null)}>
            <option value="">All sites</option>
            {siteList.map((site) => <option key={site.id} value={site.id}>{site.name}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="violation-kind">Type</label>
          <select id="violation-kind" value={filter.kind ?? ''} onChange={(e) => update('kind', e.target.value || null)}>
            <option value="">All types</option>
            {VIOLATION_KINDS.map((k) => <option key={k} value={k}>{VIOLATION_KIND_LABELS[k]}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="violation-severity">Severity</label>
          <select id="violation-severity" value={filter.severity ?? ''} onChange={(e) => update('severity', e.target.value || null)}>
            <option value="">Any severity</option>
            {VIOLATION_SEVERITIES.map((s) => <option key={s} value={s}>{humanize(s)}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="violation-acknowledged">Acknowledged</label>
          <select id="violation-acknowledged" value={acknowledged === 'true' || acknowledged === 'false' ? acknowledged : ''} onChange={(e) => update('acknowledged', e.target.value || null)}>
            <option value="">All</option>
            <option value="false">Not acknowledged</option>
            <option value="true">Acknowledged</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="violation-from">From</label>
          <input id="violation-from" type="datetime-local" value={params.get('from') ?? ''} onChange={(e) => update('from', e.target.value || null)} />
        </div>
        <div className="field">
          <label htmlFor="violation-to">To</label>
          <input id="violation-to" type="datetime-local" value={params.get('to') ?? ''} aria-invalid={rangeInvalid || undefined} aria-describedby={rangeInvalid ? 'violation-range-error' : undefined}
            onChange={(e) => update('to', e.target.value || null)} />
        </div>
      </form>
      {rangeInvalid && <p className="field-error" id="violation-range-error" role="alert">The start of the range must be before its end.</p>}
      <p className="muted small">Times are in each camera&apos;s site time zone; From and To are in your browser&apos;s ({browserZone}). New violations appear as they happen.</p>
      <ViolationList key={JSON.stringify(filter)} filter={filter} filtered={activeFilters > 0} />
    </div>
  );
}
