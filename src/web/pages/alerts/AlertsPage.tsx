import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { SEVERITIES, SEVERITY_LABELS, useAlertCounts, useAlerts, type AlertFilter, type AlertStatus, type Severity } from '../../api/alerts';
import { useSites } from '../../api/queries';
import { AlertStatusBadge, SeverityBadge } from '../../components/alerts/AlertBadges';
import { Notice, useNotice } from '../../components/Notice';
import { Pager, useCursorPager } from '../../components/Pager';
import { useSession } from '../../components/session';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { EventTime } from '../../components/EventTime';
import { may } from '../../lib/access';
import { useDisplayContext } from '../../lib/display';
import { formatNumber } from '../../lib/format';
import { useUpdateSearchParams } from '../../lib/params';
import { useTitle } from '../../lib/title';
import { AcknowledgeDialog } from './AcknowledgeDialog';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STATUSES = ['active', 'open', 'acknowledged', 'resolved', 'all'] as const;
const STATUS_CHOICES: Record<(typeof STATUSES)[number], string> = {
  active: 'Open or acknowledged', open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved', all: 'Any status',
};

/** The filter from the address; without a status, the active alerts (what needs attention). */
function filterOf(params: URLSearchParams): AlertFilter {
  const status = params.get('status') ?? 'active';
  const severity = params.get('severity');
  const uuid = (name: string) => { const v = params.get(name); return v && UUID.test(v) ? v : undefined; };
  return {
    status: status === 'all' ? undefined : (STATUSES as readonly string[]).includes(status) ? (status as AlertStatus | 'active') : 'active',
    severity: severity && (SEVERITIES as string[]).includes(severity) ? (severity as Severity) : undefined,
    deviceId: uuid('deviceId'),
    siteId: uuid('siteId'),
    search: params.get('search')?.trim() || undefined,
  };
}

/**
 * `/alerts`: the alert inbox. Active alerts by default, filters in the address, counts by severity,
 * bulk acknowledgement with a comment for those who may; the list follows the live stream.
 */
export function AlertsPage() {
  useTitle('Alerts');
  const { me } = useSession();
  const [params] = useSearchParams();
  const filter = filterOf(params);
  const updateParams = useUpdateSearchParams();
  const display = useDisplayContext();
  const sites = useSites();
  const siteList = [...(sites.data?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const devices = [...display.devices].sort((a, b) => a.name.localeCompare(b.name));
  const notice = useNotice();
  const [search, setSearch] = useState(filter.search ?? '');
  const pause = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(pause.current), []);
  const onSearch = (value: string) => {
    setSearch(value);
    clearTimeout(pause.current);
    pause.current = setTimeout(() => updateParams({ search: value.trim() || null }), 300);
  };

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Alerts</h1>
          <p className="muted">Raised by alert rules as your devices report; this list updates live.</p>
        </div>
        {may(me, 'alertrule.write') && <Link className="button" to="/alerts/rules">Alert rules</Link>}
      </header>
      <Notice message={notice.message} />
      <SeverityCounts selected={filter.severity} onSelect={(severity) => updateParams({ severity })} />
      <form className="filters" role="search" aria-label="Filter alerts" onSubmit={(e) => { e.preventDefault(); clearTimeout(pause.current); updateParams({ search: search.trim() || null }); }}>
        <div className="field">
          <label htmlFor="alert-status">Status</label>
          <select id="alert-status" value={params.get('status') ?? 'active'} onChange={(e) => updateParams({ status: e.target.value === 'active' ? null : e.target.value })}>
            {STATUSES.map((s) => <option key={s} value={s}>{STATUS_CHOICES[s]}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="alert-severity">Severity</label>
          <select id="alert-severity" value={filter.severity ?? ''} onChange={(e) => updateParams({ severity: e.target.value || null })}>
            <option value="">Any severity</option>
            {SEVERITIES.map((s) => <option key={s} value={s}>{SEVERITY_LABELS[s]}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="alert-device">Device</label>
          <select id="alert-device" value={filter.deviceId ?? ''} onChange={(e) => updateParams({ deviceId: e.target.value || null })}>
            <option value="">All devices</option>
            {filter.deviceId && !devices.some((d) => d.id === filter.deviceId) && <option value={filter.deviceId}>This device</option>}
            {devices.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="alert-site">Site</label>
          <select id="alert-site" value={filter.siteId ?? ''} onChange={(e) => updateParams({ siteId: e.target.value || null })}>
            <option value="">All sites</option>
            {siteList.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="alert-search">Search</label>
          <input id="alert-search" type="search" placeholder="Message or rule" maxLength={200} value={search} onChange={(e) => onSearch(e.target.value)} />
        </div>
      </form>
      <AlertList key={JSON.stringify(filter)} filter={filter} canAcknowledge={may(me, 'alert.ack')} onDone={notice.show} />
    </div>
  );
}

function SeverityCounts({ selected, onSelect }: { selected: Severity | undefined; onSelect: (severity: Severity | null) => void }) {
  const counts = useAlertCounts();
  if (counts.isError) return <p className="muted small">Counts by severity could not be loaded.</p>;
  return (
    <section aria-labelledby="severity-counts-heading">
      <h2 id="severity-counts-heading" className="visually-hidden">Active alerts by severity</h2>
      <ul className="severity-counts" aria-busy={counts.isPending || undefined}>
        {SEVERITIES.map((severity) => (
          <li key={severity}>
            <button type="button" className="button button-small" aria-pressed={selected === severity} onClick={() => onSelect(selected === severity ? null : severity)}>
              <SeverityBadge severity={severity} />
              <span className="severity-count">{counts.data ? formatNumber(counts.data.bySeverity[severity] ?? 0) : '…'}</span>
              <span className="visually-hidden">active</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function AlertList({ filter, canAcknowledge, onDone }: { filter: AlertFilter; canAcknowledge: boolean; onDone: (message: string) => void }) {
  const pager = useCursorPager();
  const alerts = useAlerts(filter, pager.cursor);
  const display = useDisplayContext();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [acknowledging, setAcknowledging] = useState<string[] | null>(null);
  if (alerts.isPending) return <LoadingState label="Loading alerts…" />;
  if (alerts.isError) return <ErrorState title="Alerts could not be loaded" error={alerts.error} onRetry={() => void alerts.refetch()} />;
  const { items, nextCursor } = alerts.data;
  if (items.length === 0) {
    const filtered = Boolean(filter.severity || filter.deviceId || filter.siteId || filter.search || filter.status !== 'active');
    return filtered
      ? <EmptyState title="No alerts match these filters"><p>Alerts that match appear here as they are raised.</p></EmptyState>
      : <EmptyState title="Nothing needs attention"><p>No open or acknowledged alerts. New alerts appear here as they are raised.</p></EmptyState>;
  }
  const openIds = items.filter((a) => a.status === 'open').map((a) => a.id);
  const chosen = openIds.filter((id) => selected.has(id));
  const toggle = (id: string, on: boolean) => setSelected((s) => { const next = new Set(s); if (on) next.add(id); else next.delete(id); return next; });
  const deviceName = (id: string) => display.devices.find((d) => d.id === id)?.name ?? 'Device';

  return (
    <>
      {canAcknowledge && openIds.length > 0 && (
        <div className="bulk-bar">
          <button type="button" className="button button-primary" disabled={chosen.length === 0} onClick={() => setAcknowledging(chosen)}>
            Acknowledge selected{chosen.length > 0 ? ` (${chosen.length})` : ''}
          </button>
          <span className="muted small">{chosen.length === 0 ? 'Select open alerts to acknowledge them together.' : `${chosen.length} selected`}</span>
        </div>
      )}
      <div className="table-wrap" role="region" aria-label="Alerts" tabIndex={0}>
        <table className="table" aria-busy={alerts.isPlaceholderData || undefined}>
          <thead>
            <tr>
              {canAcknowledge && (
                <th scope="col" className="check">
                  <input type="checkbox" aria-label="Select every open alert on this page" disabled={openIds.length === 0}
                    checked={openIds.length > 0 && chosen.length === openIds.length}
                    onChange={(e) => setSelected(e.target.checked ? new Set(openIds) : new Set())} />
                </th>
              )}
              <th scope="col">Severity and status</th>
              <th scope="col">Alert</th>
              <th scope="col" className="hide-narrow">Opened</th>
              {canAcknowledge && <th scope="col"><span className="visually-hidden">Actions</span></th>}
            </tr>
          </thead>
          <tbody>
            {items.map((alert) => (
              <tr key={alert.id}>
                {canAcknowledge && (
                  <td className="check">
                    {alert.status === 'open' && (
                      <input type="checkbox" aria-label={`Select “${alert.message}”`} checked={selected.has(alert.id)} onChange={(e) => toggle(alert.id, e.target.checked)} />
                    )}
                  </td>
                )}
                <td className="alert-state"><SeverityBadge severity={alert.severity} /><AlertStatusBadge status={alert.status} /></td>
                <td>
                  <Link className="alert-message" to={`/alerts/${alert.id}`}>{alert.message}</Link>
                  <div className="muted small">{deviceName(alert.deviceId)} · {alert.ruleName}</div>
                  {alert.acknowledgeComment && <div className="small alert-message">“{alert.acknowledgeComment}”</div>}
                </td>
                <td className="hide-narrow small"><EventTime iso={alert.openedAt} zone={display.zoneFor(alert.siteId)} /></td>
                {canAcknowledge && (
                  <td>
                    {alert.status === 'open' && (
                      <button type="button" className="button button-small" aria-label={`Acknowledge: ${alert.message}`} onClick={() => setAcknowledging([alert.id])}>Acknowledge</button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager label="Alert pages" page={pager.page} nextCursor={nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={alerts.isPlaceholderData} />
      {acknowledging && (
        <AcknowledgeDialog
          ids={acknowledging}
          onClose={() => setAcknowledging(null)}
          onDone={(result) => {
            setAcknowledging(null);
            setSelected(new Set());
            onDone(`${result.acknowledged} acknowledged${result.skipped ? `; ${result.skipped} had already changed` : ''}.`);
          }}
        />
      )}
    </>
  );
}
