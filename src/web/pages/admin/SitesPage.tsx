import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError, api } from '../../api/client';
import { adminKeys, useSiteList, type SiteInput, type SiteRecord } from '../../api/admin';
import { useConsoleConfig } from '../../api/fleet';
import { useOrganization } from '../../api/queries';
import { ConfirmDialog, Dialog } from '../../components/Dialog';
import { LazyLocationPicker } from '../../components/map';
import { TextField } from '../../components/TextField';
import { Notice, useNotice } from '../../components/Notice';
import { Pager, useCursorPager } from '../../components/Pager';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { without } from '../../lib/forms';
import { useTitle } from '../../lib/title';

/** Every IANA zone the browser knows, with `extra` (the current value) kept even when it does not. */
export function timeZones(extra: string): string[] {
  const supported = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  const zones = new Set(supported);
  if (extra) zones.add(extra);
  zones.add('UTC');
  return [...zones].sort();
}

/** `/admin/sites`: the organization's sites; create, edit and delete. */
export function SitesPage() {
  useTitle('Sites');
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [editing, setEditing] = useState<SiteRecord | 'new' | null>(null);
  const [deleting, setDeleting] = useState<SiteRecord | null>(null);
  const notice = useNotice();

  const pause = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(pause.current), []);
  const onSearch = (value: string) => {
    setSearch(value);
    clearTimeout(pause.current);
    pause.current = setTimeout(() => setQuery(value.trim()), 300);
  };

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Sites</h1>
          <p className="muted">Where devices are installed; each site's time zone is used for its devices' times.</p>
        </div>
        <button type="button" className="button button-primary" onClick={() => setEditing('new')}>New site</button>
      </header>
      <Notice message={notice.message} />
      <form className="filters" role="search" aria-label="Search sites" onSubmit={(e) => { e.preventDefault(); clearTimeout(pause.current); setQuery(search.trim()); }}>
        <div className="field">
          <label htmlFor="site-search">Search</label>
          <input id="site-search" type="search" placeholder="Site name" value={search} onChange={(e) => onSearch(e.target.value)} />
        </div>
      </form>
      <SiteTable key={query} search={query} onEdit={setEditing} onDelete={setDeleting} onCreate={() => setEditing('new')} />
      {editing && (
        <SiteDialog
          site={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={(site, created) => { setEditing(null); notice.show(created ? `Site “${site.name}” created.` : `Site “${site.name}” saved.`); }}
        />
      )}
      {deleting && (
        <DeleteSiteDialog site={deleting} onClose={() => setDeleting(null)} onDeleted={() => { notice.show(`Site “${deleting.name}” deleted.`); setDeleting(null); }} />
      )}
    </div>
  );
}

function SiteTable({ search, onEdit, onDelete, onCreate }: {
  search: string;
  onEdit: (site: SiteRecord) => void;
  onDelete: (site: SiteRecord) => void;
  onCreate: () => void;
}) {
  const pager = useCursorPager();
  const sites = useSiteList(search, pager.cursor);
  if (sites.isPending) return <LoadingState label="Loading sites…" />;
  if (sites.isError) return <ErrorState title="Sites could not be loaded" error={sites.error} onRetry={() => void sites.refetch()} />;
  const { items, nextCursor } = sites.data;
  if (items.length === 0) {
    return search ? (
      <EmptyState title="No sites match this search"><p>Try another name.</p></EmptyState>
    ) : (
      <EmptyState title="No sites yet">
        <p>Create a site to group devices by place and show their times in its time zone.</p>
        <button type="button" className="button button-primary" onClick={onCreate}>New site</button>
      </EmptyState>
    );
  }
  return (
    <>
      <div className="table-wrap" role="region" aria-label="Sites" tabIndex={0}>
        <table className="table" aria-busy={sites.isPlaceholderData || undefined}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" className="hide-narrow">Address</th>
              <th scope="col" className="hide-narrow">Location</th>
              <th scope="col">Time zone</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {items.map((site) => (
              <tr key={site.id}>
                <td>{site.name}</td>
                <td className="hide-narrow">{site.address || <span className="muted">—</span>}</td>
                <td className="hide-narrow mono">{site.lat !== null && site.lon !== null ? `${site.lat.toFixed(4)}, ${site.lon.toFixed(4)}` : <span className="muted">—</span>}</td>
                <td>{site.timezone}</td>
                <td>
                  <div className="row-actions">
                    <button type="button" className="button button-small" onClick={() => onEdit(site)} aria-label={`Edit ${site.name}`}>Edit</button>
                    <button type="button" className="button button-small button-danger" onClick={() => onDelete(site)} aria-label={`Delete ${site.name}`}>Delete</button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager label="Site pages" page={pager.page} nextCursor={nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={sites.isPlaceholderData} />
    </>
  );
}

/** A latitude or longitude typed by hand: null when empty, 'invalid' when not a number within ±`limit`. */
function parseCoordinate(value: string, limit: 90 | 180): number | null | 'invalid' {
  const text = value.trim().replace(',', '.');
  if (!text) return null;
  const number = Number(text);
  return Number.isFinite(number) && Math.abs(number) <= limit ? number : 'invalid';
}

function SiteDialog({ site, onClose, onSaved }: { site: SiteRecord | null; onClose: () => void; onSaved: (site: SiteRecord, created: boolean) => void }) {
  const organization = useOrganization();
  const queryClient = useQueryClient();
  const [name, setName] = useState(site?.name ?? '');
  const [address, setAddress] = useState(site?.address ?? '');
  const [lat, setLat] = useState(site?.lat?.toString() ?? '');
  const [lon, setLon] = useState(site?.lon?.toString() ?? '');
  const [timezone, setTimezone] = useState(site?.timezone ?? '');
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const config = useConsoleConfig();
  const zoneDefault = organization.data?.timezone ?? '';
  const zone = timezone || zoneDefault;
  const zones = useMemo(() => timeZones(zone), [zone]);

  const save = useMutation({
    mutationFn: (input: SiteInput) => site
      ? api<SiteRecord>(`/sites/${site.id}`, { method: 'PATCH', body: input })
      : api<SiteRecord>('/sites', { method: 'POST', body: input }),
    onSuccess: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: adminKeys.sites });
      onSaved(saved, !site);
    },
  });

  const serverError = save.error instanceof ApiError ? save.error : null;
  const fieldError = (field: string) => localErrors[field] ?? serverError?.fieldMessage(field);
  const otherError = save.error && !(serverError && serverError.details.some((d) => ['name', 'address', 'lat', 'lon', 'timezone'].includes(d.field)))
    ? save.error
    : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    const latValue = parseCoordinate(lat, 90);
    const lonValue = parseCoordinate(lon, 180);
    if (!name.trim()) errors.name = 'Enter a name.';
    if (latValue === 'invalid') errors.lat = 'Enter a number between -90 and 90.';
    if (lonValue === 'invalid') errors.lon = 'Enter a number between -180 and 180.';
    if ((latValue === null) !== (lonValue === null) && !errors.lat && !errors.lon) errors[latValue === null ? 'lat' : 'lon'] = 'Enter both latitude and longitude, or neither.';
    setLocalErrors(errors);
    if (Object.keys(errors).length > 0 || latValue === 'invalid' || lonValue === 'invalid') return;
    save.mutate({ name: name.trim(), address: address.trim() || null, lat: latValue, lon: lonValue, ...(zone ? { timezone: zone } : {}) });
  };

  // A field's own complaint goes once it is edited; the server's stay until the next save.
  const forget = (...ids: string[]) => setLocalErrors((errors) => without(errors, ...ids));
  const field = (id: string, label: string, value: string, set: (v: string) => void, props: { inputMode?: 'decimal'; placeholder?: string; required?: boolean } = {}) => (
    <TextField id={`site-${id}`} label={label} value={value} onChange={(e) => { set(e.target.value); forget(id); }} error={fieldError(id)} {...props} />
  );

  const zoneError = fieldError('timezone');
  const typedLat = parseCoordinate(lat, 90);
  const typedLon = parseCoordinate(lon, 180);
  const point = typeof typedLat === 'number' && typeof typedLon === 'number' ? { lat: typedLat, lon: typedLon } : null;
  return (
    <Dialog title={site ? `Edit ${site.name}` : 'New site'} onClose={onClose} wide>
      <form onSubmit={submit} noValidate>
        {field('name', 'Name', name, setName, { required: true })}
        {field('address', 'Address', address, setAddress, { placeholder: 'Optional' })}
        <p className="field-hint">Click the map to place the site, drag the pin to adjust, or type the coordinates (decimal degrees).</p>
        {config.isSuccess && (
          <LazyLocationPicker
            value={point} center={null} tiles={config.data.mapTiles} label="Map: click to place the site" pinTitle="Site position"
            onChange={(p) => { setLat(String(p.lat)); setLon(String(p.lon)); forget('lat', 'lon'); }}
          />
        )}
        <div className="field-row" style={{ marginTop: '0.75rem' }}>
          {field('lat', 'Latitude', lat, setLat, { inputMode: 'decimal', placeholder: 'e.g. 39.7392' })}
          {field('lon', 'Longitude', lon, setLon, { inputMode: 'decimal', placeholder: 'e.g. -104.9903' })}
        </div>
        <div className="field">
          <label htmlFor="site-timezone">Time zone</label>
          <select
            id="site-timezone"
            value={zone}
            onChange={(e) => setTimezone(e.target.value)}
            aria-invalid={zoneError ? true : undefined}
            aria-describedby={zoneError ? 'site-timezone-error' : undefined}
          >
            {!zone && <option value="">The organization's time zone</option>}
            {zones.map((z) => <option key={z} value={z}>{z.replace(/_/g, ' ')}</option>)}
          </select>
          {zoneError && <span id="site-timezone-error" className="field-error">{zoneError}</span>}
        </div>
        {otherError && <p className="form-error" role="alert">{otherError.message}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button-primary" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : site ? 'Save changes' : 'Create site'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteSiteDialog({ site, onClose, onDeleted }: { site: SiteRecord; onClose: () => void; onDeleted: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api<void>(`/sites/${site.id}`, { method: 'DELETE' }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: adminKeys.sites });
      await queryClient.invalidateQueries({ queryKey: ['devices'] });
      onDeleted();
    },
  });
  return (
    <ConfirmDialog
      title={`Delete ${site.name}?`}
      confirmLabel="Delete site"
      busy={remove.isPending}
      error={remove.error}
      onConfirm={() => remove.mutate()}
      onClose={onClose}
    >
      <p>The site is removed for good, and members restricted to it lose access to it. A site that still has devices cannot be deleted: move them first.</p>
    </ConfirmDialog>
  );
}
