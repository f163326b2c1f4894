import { useState, type FormEvent } from 'react';
import { useAuditLog, type AuditEntry, type AuditFilter } from '../../api/admin';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { formatTime, organizationZone } from '../../lib/format';
import { useTitle } from '../../lib/title';


/** A `datetime-local` value (the browser's time) as an ISO instant; '' when empty or invalid. */
function toIso(local: string): string {
  if (!local) return '';
  const time = new Date(local).getTime();
  return Number.isFinite(time) ? new Date(time).toISOString() : '';
}

const RESOURCE_LABELS: Record<string, string> = {
  device: 'Device', site: 'Site', alert: 'Alert', alert_rule: 'Alert rule', report: 'Report', report_schedule: 'Report schedule',
  notification_channel: 'Notification channel', organization: 'Organization', user: 'User', invitation: 'Invitation',
  registration_code: 'Registration code', camera: 'Camera', delivery_challan: 'Challan', customer: 'Customer', session: 'Session',
  api_token: 'API token', maintenance_record: 'Maintenance record',
};

/** What an entry is about, in words: the name recorded with it (older entries: whatever names it best). */
function resourceName(entry: AuditEntry): string | null {
  const d = entry.details;
  for (const key of ['name', 'title', 'number', 'email', 'message'] as const) {
    if (typeof d[key] === 'string' && d[key]) return d[key];
    if (typeof d[key] === 'number') return String(d[key]);
  }
  return null;
}

/** "speedLimit" reads "speed limit". */
const fieldLabel = (field: string) => field.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();

function changedFields(entry: AuditEntry): string[] {
  const { changedFields: recorded, changes } = entry.details;
  if (Array.isArray(recorded)) return recorded.filter((f): f is string => typeof f === 'string');
  return changes && typeof changes === 'object' ? Object.keys(changes) : [];
}

function Resource({ entry }: { entry: AuditEntry }) {
  const name = resourceName(entry);
  const fields = changedFields(entry);
  const comment = typeof entry.details.comment === 'string' ? entry.details.comment : null;
  return (
    <>
      <span className="muted">{RESOURCE_LABELS[entry.resourceType] ?? entry.resourceType}</span>{' '}
      {name ? <strong title={entry.resourceId ?? undefined}>{name}</strong> : entry.resourceId && <span className="muted small mono" title={entry.resourceId}>{entry.resourceId.slice(0, 8)}</span>}
      {fields.length > 0 && <div className="small">Changed: {fields.map(fieldLabel).join(', ')}</div>}
      {comment && <div className="small muted">“{comment}”</div>}
    </>
  );
}

/** `/admin/audit`: privileged changes and sign-ins, newest first, filtered, a page at a time. */
export function AuditPage() {
  useTitle('Audit log');
  const [action, setAction] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [filter, setFilter] = useState<AuditFilter>({});
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilter({ action: action.trim() || undefined, from: toIso(from) || undefined, to: toIso(to) || undefined });
  };
  const filtered = Boolean(filter.action || filter.from || filter.to);
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Audit log</h1>
          <p className="muted">Every privileged change and sign-in in your organization, newest first.</p>
        </div>
      </header>
      <form className="filters" role="search" aria-label="Filter the audit log" onSubmit={apply}>
        <div className="field">
          <label htmlFor="audit-action">Action</label>
          <input id="audit-action" placeholder="e.g. member or site.created" value={action} onChange={(e) => setAction(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="audit-from">From</label>
          <input id="audit-from" type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="audit-to">To</label>
          <input id="audit-to" type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
        </div>
        <div className="field">
          <button type="submit" className="button button-primary">Apply</button>
        </div>
        {filtered && (
          <div className="field">
            <button type="button" className="button button-quiet" onClick={() => { setAction(''); setFrom(''); setTo(''); setFilter({}); }}>Clear filters</button>
          </div>
        )}
      </form>
      <AuditTable filter={filter} filtered={filtered} />
    </div>
  );
}

function AuditTable({ filter, filtered }: { filter: AuditFilter; filtered: boolean }) {
  const log = useAuditLog(filter);
  if (log.isPending) return <LoadingState label="Loading the audit log…" />;
  if (log.isError) return <ErrorState title="The audit log could not be loaded" error={log.error} onRetry={() => void log.refetch()} />;
  const entries = log.data.pages.flatMap((page) => page.items);
  if (entries.length === 0) {
    return <EmptyState title={filtered ? 'Nothing matches these filters' : 'Nothing recorded yet'}>{filtered && <p>Try a shorter action prefix or a wider time range.</p>}</EmptyState>;
  }
  return (
    <>
      <div className="table-wrap" role="region" aria-label="Audit log" tabIndex={0}>
        <table className="table" aria-busy={log.isFetching || undefined}>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Resource</th>
              <th scope="col" className="hide-narrow">IP</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id}>
                <td className="nowrap"><time dateTime={entry.createdAt}>{formatTime(entry.createdAt, organizationZone())}</time></td>
                <td>{entry.actor ?? <span className="muted">System</span>}</td>
                <td className="mono">{entry.action}</td>
                <td><Resource entry={entry} /></td>
                <td className="hide-narrow mono">{entry.ip ?? <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {log.hasNextPage && (
        <div className="load-more">
          <button type="button" className="button" onClick={() => void log.fetchNextPage()} disabled={log.isFetchingNextPage}>
            {log.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </>
  );
}
