import { useState } from 'react';
import { Link } from 'react-router';
import { apiUrl } from '../api/client';
import { MAINTENANCE_TYPE_LABELS, useMaintenanceDue, type DueStatus } from '../api/maintenance';
import { Pager, useCursorPager } from '../components/Pager';
import { EmptyState, ErrorState, LoadingState } from '../components/states';
import { useTitle } from '../lib/title';

const WINDOWS = [7, 14, 30, 90];

function dueText(days: number): string {
  if (days < 0) return `${-days} day${days === -1 ? '' : 's'} overdue`;
  if (days === 0) return 'Due today';
  return `In ${days} day${days === 1 ? '' : 's'}`;
}

/** `/maintenance`: devices whose next maintenance is overdue or due soon, across the organization, with CSV export. */
export function MaintenancePage() {
  useTitle('Maintenance');
  const [status, setStatus] = useState<DueStatus | ''>('');
  const [withinDays, setWithinDays] = useState<number | null>(null);
  const filterKey = `${status}:${withinDays ?? ''}`;

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Maintenance due</h1>
          <p className="muted">Devices whose next maintenance, as set by their latest visit, is overdue or coming up.</p>
        </div>
        <div className="row-actions">
          <a className="button" href={apiUrl('/maintenance/due.csv', { status, withinDays })} download>Export CSV</a>
          <a className="button" href={apiUrl('/maintenance/records.csv')} download>All records (CSV)</a>
        </div>
      </header>
      <form className="filters" aria-label="Filter the list" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="due-status">Show</label>
          <select id="due-status" value={status} onChange={(e) => setStatus(e.target.value as DueStatus | '')}>
            <option value="">Overdue and due soon</option>
            <option value="overdue">Overdue only</option>
            <option value="due_soon">Due soon only</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="due-window">Due within</label>
          <select id="due-window" value={withinDays ?? ''} onChange={(e) => setWithinDays(e.target.value ? Number(e.target.value) : null)}>
            <option value="">The reminder window</option>
            {WINDOWS.map((days) => <option key={days} value={days}>{days} days</option>)}
          </select>
        </div>
      </form>
      <DueTable key={filterKey} status={status} withinDays={withinDays} />
    </div>
  );
}

function DueTable({ status, withinDays }: { status: DueStatus | ''; withinDays: number | null }) {
  const pager = useCursorPager();
  const due = useMaintenanceDue(status, withinDays, pager.cursor);
  if (due.isPending) return <LoadingState label="Loading due maintenance…" />;
  if (due.isError) return <ErrorState title="Due maintenance could not be loaded" error={due.error} onRetry={() => void due.refetch()} />;
  const { items, nextCursor } = due.data;
  if (items.length === 0) {
    return (
      <EmptyState title="Nothing due">
        <p>No device you can see is overdue or due within {due.data.withinDays} days. Due dates come from each device's latest maintenance record.</p>
      </EmptyState>
    );
  }
  return (
    <>
      <div className="table-wrap" role="region" aria-label="Due maintenance" tabIndex={0}>
        <table className="table" aria-busy={due.isPlaceholderData || undefined}>
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col" className="hide-narrow">Site</th>
              <th scope="col">Due</th>
              <th scope="col" className="hide-narrow">Last maintenance</th>
            </tr>
          </thead>
          <tbody>
            {items.map((entry) => (
              <tr key={entry.recordId}>
                <td>
                  <Link to={`/devices/${entry.deviceId}`}>{entry.deviceName}</Link>
                  <div className="muted mono">{entry.serial}</div>
                </td>
                <td className="hide-narrow">{entry.siteName ?? <span className="muted">No site</span>}</td>
                <td>
                  {entry.nextDueOn}
                  <span className={`badge ${entry.status === 'overdue' ? 'badge-danger' : 'badge-warning'}`}>{dueText(entry.daysUntilDue)}</span>
                </td>
                <td className="hide-narrow">
                  {MAINTENANCE_TYPE_LABELS[entry.lastType]}, {entry.lastPerformedAt.slice(0, 10)} <span className="muted">by {entry.lastPerformedBy}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager label="Due maintenance pages" page={pager.page} nextCursor={nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={due.isPlaceholderData} />
    </>
  );
}
