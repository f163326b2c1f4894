import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { apiUrl } from '../api/client';
import { useEvents, useSites, type EventFilter } from '../api/queries';
import { EventsTable } from '../components/EventsTable';
import { Pager, useCursorPager } from '../components/Pager';
import { useSession } from '../components/session';
import { EmptyState, ErrorState, LoadingState } from '../components/states';
import { useCapabilities } from '../lib/capabilities';
import { browserZone, organizationZone } from '../lib/format';
import { useDisplayContext } from '../lib/display';
import { useUpdateSearchParams } from '../lib/params';
import { useTitle } from '../lib/title';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The kinds devices commonly send, offered as suggestions (any kind can be typed). */
const COMMON_KINDS = ['speed', 'motion', 'ppe_violation', 'zone_breach', 'door_open', 'alarm', 'reading'];

const uuidParam = (value: string | null) => (value && UUID.test(value) ? value : undefined);

/** A datetime-local value (the browser's zone) as an ISO timestamp; undefined when empty or not a date. */
function isoOf(local: string | null): string | undefined {
  if (!local) return undefined;
  const time = new Date(local).getTime();
  return Number.isFinite(time) ? new Date(time).toISOString() : undefined;
}

/**
 * `/events`: newest first, filtered by device and speeding (the filter lives in the address, and the
 * CSV export takes the same filter). New events appear as they arrive (see lib/live.ts).
 */
export function EventsPage() {
  useTitle('Events');
  const [params] = useSearchParams();
  const filter: EventFilter = {
    deviceId: uuidParam(params.get('deviceId')),
    siteId: uuidParam(params.get('siteId')),
    kind: params.get('kind')?.trim() || undefined,
    from: isoOf(params.get('from')),
    to: isoOf(params.get('to')),
    speedingOnly: params.get('speedingOnly') === 'true' || undefined,
    hasPhoto: params.get('hasPhoto') === 'true' || undefined,
  };
  const display = useDisplayContext();
  const capabilities = useCapabilities(useSession().me);
  // On a phone the filters fold behind a button, so the events themselves are on the first screen.
  const [filtersOpen, setFiltersOpen] = useState(false);
  const activeFilters = Object.values(filter).filter(Boolean).length;
  const sites = useSites();
  const siteList = [...(sites.data?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const rangeInvalid = Boolean(filter.from && filter.to && filter.from >= filter.to);

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
      <button type="button" className="button filters-toggle" aria-expanded={filtersOpen} aria-controls="event-filters" onClick={() => setFiltersOpen((o) => !o)}>
        Filters{activeFilters > 0 ? ` (${activeFilters})` : ''}
      </button>
      <form id="event-filters" className={`filters filters-collapsible${filtersOpen ? ' open' : ''}`} aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="event-device">Device</label>
          <select id="event-device" value={filter.deviceId ?? ''} onChange={(e) => update('deviceId', e.target.value || null)}>
            <option value="">All devices</option>
            {filter.deviceId && !devices.some((d) => d.id === filter.deviceId) && <option value={filter.deviceId}>This device</option>}
            {devices.map((device) => <option key={device.id} value={device.id}>{device.name}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="event-site">Site</label>
          <select id="event-site" value={filter.siteId ?? ''} onChange={(e) => update('siteId', e.target.value || null)}>
            <option value="">All sites</option>
            {siteList.map((site) => <option key={site.id} value={site.id}>{site.name}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="event-kind">Kind</label>
          <input id="event-kind" key={filter.kind ?? ''} list="event-kinds" defaultValue={filter.kind ?? ''} placeholder="Any kind" maxLength={50}
            onBlur={(e) => update('kind', e.target.value.trim() || null)} onKeyDown={(e) => { if (e.key === 'Enter') update('kind', e.currentTarget.value.trim() || null); }} />
          <datalist id="event-kinds">{COMMON_KINDS.map((kind) => <option key={kind} value={kind} />)}</datalist>
        </div>
        <div className="field">
          <label htmlFor="event-from">From</label>
          <input id="event-from" type="datetime-local" value={params.get('from') ?? ''} onChange={(e) => update('from', e.target.value || null)} />
        </div>
        <div className="field">
          <label htmlFor="event-to">To</label>
          <input id="event-to" type="datetime-local" value={params.get('to') ?? ''} aria-invalid={rangeInvalid || undefined} aria-describedby={rangeInvalid ? 'event-range-error' : undefined}
            onChange={(e) => update('to', e.target.value || null)} />
        </div>
        {(capabilities.has('speed_radar') || filter.speedingOnly) && (
          <div className="field field-checkbox">
            <input id="event-speeding" type="checkbox" checked={filter.speedingOnly ?? false} onChange={(e) => update('speedingOnly', e.target.checked ? 'true' : null)} />
            <label htmlFor="event-speeding">Speeding only</label>
          </div>
        )}
        <div className="field field-checkbox">
          <input id="event-photo" type="checkbox" checked={filter.hasPhoto ?? false} onChange={(e) => update('hasPhoto', e.target.checked ? 'true' : null)} />
          <label htmlFor="event-photo">With photo</label>
        </div>
      </form>
      {rangeInvalid && <p className="field-error" id="event-range-error" role="alert">The start of the range must be before its end.</p>}
      <p className="muted small">
        Times are in each device's site time zone; devices without a site use the organization's ({organizationZone()}). The From and To fields are in your browser's zone ({browserZone}).
      </p>
      <EventList key={JSON.stringify(filter)} filter={filter} filtered={Object.values(filter).some(Boolean)} />
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
