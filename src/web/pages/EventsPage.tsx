import { useSearchParams } from 'react-router';
import { apiUrl } from '../api/client';
import { useEvents, type EventFilter } from '../api/queries';
import { EventsTable } from '../components/EventsTable';
import { Pager, useCursorPager } from '../components/Pager';
import { EmptyState, ErrorState, LoadingState } from '../components/states';
import { browserZone } from '../lib/format';
import { useDisplayContext } from '../lib/display';
import { useUpdateSearchParams } from '../lib/params';
import { useTitle } from '../lib/title';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `/events`: newest first, filtered by device and speeding (the filter lives in the address, and the
 * CSV export takes the same filter). New events appear as they arrive (see lib/live.ts).
 */
export function EventsPage() {
  useTitle('Events');
  const [params] = useSearchParams();
  const deviceParam = params.get('deviceId');
  const filter: EventFilter = {
    deviceId: deviceParam && UUID.test(deviceParam) ? deviceParam : undefined,
    speedingOnly: params.get('speedingOnly') === 'true' || undefined,
  };
  const display = useDisplayContext();

  const updateParams = useUpdateSearchParams();
  const update = (name: string, value: string | null) => updateParams({ [name]: value });

  const devices = [...display.devices].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <div className="page">
      <header className="page-header">
        <h1>Events</h1>
        <a className="button" href={apiUrl('/events.csv', { ...filter })} download>
          Export CSV
        </a>
      </header>
      <form className="filters" aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="event-device">Device</label>
          <select id="event-device" value={filter.deviceId ?? ''} onChange={(e) => update('deviceId', e.target.value || null)}>
            <option value="">All devices</option>
            {filter.deviceId && !devices.some((d) => d.id === filter.deviceId) && <option value={filter.deviceId}>This device</option>}
            {devices.map((device) => <option key={device.id} value={device.id}>{device.name}</option>)}
          </select>
        </div>
        <div className="field field-checkbox">
          <input id="event-speeding" type="checkbox" checked={filter.speedingOnly ?? false} onChange={(e) => update('speedingOnly', e.target.checked ? 'true' : null)} />
          <label htmlFor="event-speeding">Speeding only</label>
        </div>
      </form>
      <p className="muted small">
        Times are in each device's site time zone; devices without a site use your browser's ({browserZone}).
      </p>
      <EventList key={JSON.stringify(filter)} filter={filter} filtered={Boolean(filter.deviceId || filter.speedingOnly)} />
    </div>
  );
}

function EventList({ filter, filtered }: { filter: EventFilter; filtered: boolean }) {
  const pager = useCursorPager();
  const events = useEvents(filter, pager.cursor);
  if (events.isPending) return <LoadingState label="Loading events…" />;
  if (events.isError) return <ErrorState title="Events could not be loaded" error={events.error} onRetry={() => void events.refetch()} />;
  const { items, nextCursor } = events.data;
  if (items.length === 0) {
    return filtered ? (
      <EmptyState title="No events match these filters"><p>New events that match appear here as they arrive.</p></EmptyState>
    ) : (
      <EmptyState title="No events yet"><p>Events appear here as your devices send them.</p></EmptyState>
    );
  }
  return (
    <>
      <EventsTable events={items} label="Events" />
      <Pager label="Event pages" page={pager.page} nextCursor={nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={events.isPlaceholderData} />
    </>
  );
}
