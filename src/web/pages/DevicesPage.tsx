import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useDevices, type DeviceFilter } from '../api/queries';
import { useSession } from '../components/session';
import { may } from '../lib/access';
import { DEVICE_KINDS } from '../../shared/devices';
import type { DeviceKind, DeviceStatus } from '../api/types';
import { Pager, useCursorPager } from '../components/Pager';
import { EmptyState, ErrorState, LoadingState } from '../components/states';
import { StatusDot } from '../components/StatusDot';
import { formatRelative, formatTime, KIND_LABELS, STATUS_LABELS } from '../lib/format';
import { useDisplayContext } from '../lib/display';
import { useUpdateSearchParams } from '../lib/params';
import { useTitle } from '../lib/title';

const STATUSES: DeviceStatus[] = ['online', 'offline', 'error'];

function isKind(value: string | null): value is DeviceKind {
  return value !== null && (DEVICE_KINDS as readonly string[]).includes(value);
}

function isStatus(value: string | null): value is DeviceStatus {
  return value !== null && (STATUSES as string[]).includes(value);
}

/** `/devices`: the fleet, searchable and filtered by kind and status; the filter lives in the address. */
export function DevicesPage() {
  useTitle('Devices');
  const [params] = useSearchParams();
  const kindParam = params.get('kind');
  const statusParam = params.get('status');
  const filter: DeviceFilter = {
    search: params.get('q')?.trim() || undefined,
    kind: isKind(kindParam) ? kindParam : undefined,
    status: isStatus(statusParam) ? statusParam : undefined,
  };
  const [search, setSearch] = useState(params.get('q') ?? '');

  const updateParams = useUpdateSearchParams();
  const update = (name: string, value: string) => updateParams({ [name]: value });

  // Search as the user types, once they pause.
  const pause = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(pause.current), []);
  const onSearch = (value: string) => {
    setSearch(value);
    clearTimeout(pause.current);
    pause.current = setTimeout(() => update('q', value.trim()), 300);
  };

  const filtered = Boolean(filter.search || filter.kind || filter.status);
  const { me } = useSession();
  return (
    <div className="page">
      <header className="page-header">
        <h1>Devices</h1>
        {may(me, 'device.write') && <Link className="button button-primary" to="/devices/new">Register a device</Link>}
      </header>
      <form className="filters" role="search" aria-label="Filter devices" onSubmit={(e) => { e.preventDefault(); clearTimeout(pause.current); update('q', search.trim()); }}>
        <div className="field">
          <label htmlFor="device-search">Search</label>
          <input id="device-search" type="search" placeholder="Name or serial" value={search} onChange={(e) => onSearch(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="device-kind">Kind</label>
          <select id="device-kind" value={filter.kind ?? ''} onChange={(e) => update('kind', e.target.value)}>
            <option value="">All kinds</option>
            {DEVICE_KINDS.map((kind) => <option key={kind} value={kind}>{KIND_LABELS[kind]}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="device-status">Status</label>
          <select id="device-status" value={filter.status ?? ''} onChange={(e) => update('status', e.target.value)}>
            <option value="">Any status</option>
            {STATUSES.map((status) => <option key={status} value={status}>{STATUS_LABELS[status]}</option>)}
          </select>
        </div>
        {filtered && (
          <button type="button" className="button button-quiet" onClick={() => { clearTimeout(pause.current); setSearch(''); updateParams({ q: null, kind: null, status: null }); }}>
            Clear filters
          </button>
        )}
      </form>
      {/* A new filter starts again at the first page. */}
      <DeviceTable key={JSON.stringify(filter)} filter={filter} filtered={filtered} />
    </div>
  );
}

function DeviceTable({ filter, filtered }: { filter: DeviceFilter; filtered: boolean }) {
  const pager = useCursorPager();
  const devices = useDevices(filter, pager.cursor);
  const display = useDisplayContext();

  if (devices.isPending || !display.ready) return <LoadingState label="Loading devices…" />;
  if (devices.isError) return <ErrorState title="Devices could not be loaded" error={devices.error} onRetry={() => void devices.refetch()} />;
  const { items, nextCursor } = devices.data;
  if (items.length === 0) {
    return filtered ? (
      <EmptyState title="No devices match these filters"><p>Try another search or clear the filters.</p></EmptyState>
    ) : (
      <EmptyState title="No devices yet">
        <p><Link to="/devices/new">Register a device</Link> in a few steps, or with <code>POST /api/v1/devices</code> (see the <a href="/docs">API documentation</a>).</p>
      </EmptyState>
    );
  }
  return (
    <>
      <div className="table-wrap" role="region" aria-label="Devices" tabIndex={0}>
        <table className="table" aria-busy={devices.isPlaceholderData || undefined}>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Name</th>
              <th scope="col" className="hide-narrow">Kind</th>
              <th scope="col" className="hide-narrow">Serial</th>
              <th scope="col" className="hide-narrow">Site</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {items.map((device) => (
              <tr key={device.id}>
                <td><StatusDot status={device.status} /></td>
                <td>
                  <Link to={`/devices/${device.id}`}>{device.name}</Link>
                  {/* On a phone the kind goes under the name, so "Last seen" keeps its column. */}
                  <span className="show-narrow muted small">{KIND_LABELS[device.kind]}</span>
                </td>
                <td className="hide-narrow">{KIND_LABELS[device.kind]}</td>
                <td className="hide-narrow mono">{device.serial}</td>
                <td className="hide-narrow">{display.siteName(device.siteId) ?? <span className="muted">—</span>}</td>
                <td>
                  {device.lastSeenAt ? (
                    <time dateTime={device.lastSeenAt} title={formatTime(device.lastSeenAt, display.zoneFor(device.siteId))}>
                      {formatRelative(device.lastSeenAt)}
                    </time>
                  ) : (
                    <span className="muted">Never</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager label="Device pages" page={pager.page} nextCursor={nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={devices.isPlaceholderData} />
    </>
  );
}
