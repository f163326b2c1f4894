import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { SEVERITIES, useAcknowledge, useAlertCounts, useAlerts, type Alert, type AlertFilter, type Severity } from '../api/alerts';
import { Dialog } from '../components/Dialog';
import { EventTime } from '../components/EventTime';
import { Pager, useCursorPager } from '../components/Pager';
import { useSession } from '../components/session';
import { EmptyState, ErrorState, LoadingState } from '../components/states';
import { may } from '../lib/access';
import { useDisplayContext } from '../lib/display';
import { humanize } from '../lib/format';
import { useUpdateSearchParams } from '../lib/params';
import { useTitle } from '../lib/title';

const STATUSES = ['active', 'open', 'acknowledged', 'resolved', 'all'] as const;
type StatusChoice = (typeof STATUSES)[number];
const STATUS_LABELS: Record<StatusChoice, string> = { active: 'Active (open or acknowledged)', open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved', all: 'All' };

/**
 * `/alerts`: the inbox. Active alerts by default, newest first, filtered by status, severity and text
 * (in the address); counts by severity at the top; operators and above acknowledge one or several with
 * a comment. New and changed alerts arrive through the live stream.
 */
export function AlertsPage() {
  useTitle('Alerts');
  const [params] = useSearchParams();
  const updateParams = useUpdateSearchParams();
  const statusParam = params.get('status') as StatusChoice | null;
  const status: StatusChoice = statusParam && STATUSES.includes(statusParam) ? statusParam : 'active';
  const severityParam = params.get('severity') as Severity | null;
  const filter: AlertFilter = {
    status: status === 'all' ? undefined : status,
    severity: severityParam && SEVERITIES.includes(severityParam) ? severityParam : undefined,
    search: params.get('search')?.trim() || undefined,
  };

  return (
    <div className="page">
      <header className="page-header">
        <h1>Alerts</h1>
      </header>
      <AlertCountsBar />
      <form className="filters" aria-label="Filter alerts" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="alert-status">Status</label>
          <select id="alert-status" value={status} onChange={(e) => updateParams({ status: e.target.value === 'active' ? null : e.target.value })}>
            {STATUSES.map((s) => <option key={s} value={s}>{STATUS_LABELS[s]}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="alert-severity">Severity</label>
          <select id="alert-severity" value={filter.severity ?? ''} onChange={(e) => updateParams({ severity: e.target.value || null })}>
            <option value="">Any severity</option>
            {SEVERITIES.map((s) => <option key={s} value={s}>{humanize(s)}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="alert-search">Search</label>
          <input id="alert-search" type="search" key={filter.search ?? ''} defaultValue={filter.search ?? ''} placeholder="Message or rule" maxLength={200}
            onBlur={(e) => updateParams({ search: e.target.value.trim() || null })}
            onKeyDown={(e) => { if (e.key === 'Enter') updateParams({ search: e.currentTarget.value.trim() || null }); }} />
        </div>
      </form>
      <AlertList key={JSON.stringify(filter)} filter={filter} />
    </div>
  );
}

function AlertCountsBar() {
  const counts = useAlertCounts();
  if (!counts.data) return null;
  return (
    <ul className="alert-counts" aria-label="Active alerts by severity">
      {SEVERITIES.map((severity) => (
        <li key={severity}>
          <span className={`severity severity-${severity}`}>{humanize(severity)}</span> {counts.data.bySeverity[severity] ?? 0}
        </li>
      ))}
    </ul>
  );
}

function AlertList({ filter }: { filter: AlertFilter }) {
  const { me } = useSession();
  const mayAcknowledge = may(me, 'alert.ack');
  const display = useDisplayContext();
  const pager = useCursorPager();
  const alerts = useAlerts(filter, pager.cursor);
  const [selected, setSelected] = useState<Set<string>>(() => new Set());
  const [acknowledging, setAcknowledging] = useState<string[] | null>(null);

  if (alerts.isPending || !display.ready) return <LoadingState label="Loading alerts…" />;
  if (alerts.isError) return <ErrorState title="Alerts could not be loaded" error={alerts.error} onRetry={() => void alerts.refetch()} />;
  const { items, nextCursor } = alerts.data;
  if (items.length === 0) {
    return (
      <EmptyState title={filter.status === 'active' && !filter.severity && !filter.search ? 'No active alerts' : 'No alerts match these filters'}>
        <p>Alerts appear here as soon as a rule fires.</p>
      </EmptyState>
    );
  }
  const openIds = items.filter((a) => a.status === 'open').map((a) => a.id);
  const chosen = openIds.filter((id) => selected.has(id));
  const toggle = (id: string, on: boolean) => setSelected((s) => {
    const next = new Set(s);
    if (on) next.add(id);
    else next.delete(id);
    return next;
  });
  const deviceName = (id: string) => display.devices.find((d) => d.id === id)?.name ?? 'Device';

  return (
    <>
      {mayAcknowledge && openIds.length > 0 && (
        <div className="bulk-actions">
          <button type="button" className="button" disabled={chosen.length === 0} onClick={() => setAcknowledging(chosen)}>
            Acknowledge selected ({chosen.length})
          </button>
        </div>
      )}
      <div className="table-wrap" role="region" aria-label="Alerts" tabIndex={0}>
        <table className="table">
          <thead>
            <tr>
              {mayAcknowledge && <th scope="col"><span className="visually-hidden">Select</span></th>}
              <th scope="col">Severity</th>
              <th scope="col">Alert</th>
              <th scope="col" className="hide-narrow">Device</th>
              <th scope="col" className="hide-narrow">Opened</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {items.map((alert) => (
              <AlertRow key={alert.id} alert={alert} device={deviceName(alert.deviceId)} zone={display.zoneFor(alert.siteId)}
                selectable={mayAcknowledge} selected={selected.has(alert.id)} onSelect={(on) => toggle(alert.id, on)}
                onAcknowledge={mayAcknowledge ? () => setAcknowledging([alert.id]) : undefined} />
            ))}
          </tbody>
        </table>
      </div>
      <Pager label="Alert pages" page={pager.page} nextCursor={nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={alerts.isPlaceholderData} />
      {acknowledging && (
        <AcknowledgeDialog ids={acknowledging} onClose={() => setAcknowledging(null)} onDone={() => { setAcknowledging(null); setSelected(new Set()); }} />
      )}
    </>
  );
}

function AlertRow({ alert, device, zone, selectable, selected, onSelect, onAcknowledge }: {
  alert: Alert;
  device: string;
  zone: string;
  selectable: boolean;
  selected: boolean;
  onSelect: (on: boolean) => void;
  onAcknowledge?: () => void;
}) {
  const open = alert.status === 'open';
  return (
    <tr>
      {selectable && (
        <td>
          {open && <input type="checkbox" checked={selected} onChange={(e) => onSelect(e.target.checked)} aria-label={`Select: ${alert.message}`} />}
        </td>
      )}
      <td><span className={`severity severity-${alert.severity}`}>{humanize(alert.severity)}</span></td>
      <td>
        <Link to={`/alerts/${alert.id}`}>{alert.message}</Link>
        <div className="muted small">{alert.ruleName}{alert.breachCount > 1 && ` · ${alert.breachCount} breaches`}{alert.peakValue !== null && ` · peak ${alert.peakValue}`}</div>
      </td>
      <td className="hide-narrow"><Link to={`/devices/${alert.deviceId}`}>{device}</Link></td>
      <td className="hide-narrow nowrap"><EventTime iso={alert.openedAt} zone={zone} /></td>
      <td className="nowrap">
        {humanize(alert.status)}
        {alert.acknowledgeComment && <div className="muted small">“{alert.acknowledgeComment}”</div>}
        {open && onAcknowledge && (
          <div><button type="button" className="button button-small" onClick={onAcknowledge} aria-label={`Acknowledge: ${alert.message}`}>Acknowledge</button></div>
        )}
      </td>
    </tr>
  );
}

export function AcknowledgeDialog({ ids, onClose, onDone }: { ids: string[]; onClose: () => void; onDone: () => void }) {
  const acknowledge = useAcknowledge();
  const [comment, setComment] = useState('');
  return (
    <Dialog title={ids.length === 1 ? 'Acknowledge alert' : `Acknowledge ${ids.length} alerts`} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); acknowledge.mutate({ ids, comment }, { onSuccess: onDone }); }}>
        <div className="field">
          <label htmlFor="ack-comment">Comment (optional)</label>
          <textarea id="ack-comment" rows={3} maxLength={2000} value={comment} onChange={(e) => setComment(e.target.value)} placeholder="What is being done about it" />
        </div>
        {acknowledge.error && <p className="form-error" role="alert">{acknowledge.error.message}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button-primary" disabled={acknowledge.isPending}>{acknowledge.isPending ? 'Working…' : 'Acknowledge'}</button>
        </div>
      </form>
    </Dialog>
  );
}
