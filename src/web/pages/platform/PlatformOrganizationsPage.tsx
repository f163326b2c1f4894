import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { api } from '../../api/client';
import { platformKeys, usePlatformOrganizations, usePlatformStats, type OrganizationSettings } from '../../api/platform';
import { keys } from '../../api/queries';
import { Dialog } from '../../components/Dialog';
import { Notice, useNotice } from '../../components/Notice';
import { Pager, useCursorPager } from '../../components/Pager';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { TextField } from '../../components/TextField';
import { formErrors } from '../../lib/forms';
import { formatNumber, formatTime, organizationZone } from '../../lib/format';
import { useTitle } from '../../lib/title';

/** A search box that asks the server 300 ms after the last keystroke (or at once on Enter). */
export function useSearch() {
  const [text, setText] = useState('');
  const [query, setQuery] = useState('');
  const pause = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(pause.current), []);
  const onChange = (value: string) => {
    setText(value);
    clearTimeout(pause.current);
    pause.current = setTimeout(() => setQuery(value.trim()), 300);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    clearTimeout(pause.current);
    setQuery(text.trim());
  };
  return { text, query, onChange, submit };
}

/** `/platform/organizations` (platform administrators): figures of the whole platform and every organization. */
export function PlatformOrganizationsPage() {
  useTitle('All organizations');
  const search = useSearch();
  const notice = useNotice();
  const [editing, setEditing] = useState<OrganizationSettings | 'new' | null>(null);
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>All organizations</h1>
          <p className="muted">Every organization on this Vigil, with the platform’s figures. Only platform administrators see this page.</p>
        </div>
        <button type="button" className="button button-primary" onClick={() => setEditing('new')}>New organization</button>
      </header>
      <Notice message={notice.message} />
      <PlatformFigures />
      <h2 className="subheading">Organizations</h2>
      <form className="filters" role="search" aria-label="Search organizations" onSubmit={search.submit}>
        <div className="field">
          <label htmlFor="org-search">Search</label>
          <input id="org-search" type="search" placeholder="Name or slug" value={search.text} onChange={(e) => search.onChange(e.target.value)} />
        </div>
      </form>
      <OrganizationTable key={search.query} search={search.query} onEdit={setEditing} />
      {editing && (
        <OrganizationDialog
          organization={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={(saved, created) => { setEditing(null); notice.show(created ? `Organization “${saved.name}” created; you are its owner.` : `Organization “${saved.name}” saved.`); }}
        />
      )}
    </div>
  );
}

function PlatformFigures() {
  const stats = usePlatformStats();
  if (stats.isPending) return <LoadingState label="Counting…" />;
  if (stats.isError) return <ErrorState title="Platform figures could not be loaded" error={stats.error} onRetry={() => void stats.refetch()} />;
  const figures = [
    ['Organizations', stats.data.organizations],
    ['Users', stats.data.users],
    ['Sites', stats.data.sites],
    ['Devices', stats.data.devices],
    ['Events in the last 24 h', stats.data.eventsLast24h],
  ] as const;
  return (
    <ul className="kpis" aria-label="Platform figures">
      {figures.map(([label, value]) => (
        <li key={label} className="kpi-static">
          <span className="kpi-value">{formatNumber(value)}</span>
          <span className="kpi-label">{label}</span>
        </li>
      ))}
    </ul>
  );
}

/**
 * Enters an organization as its owner (platform administrators may act in any organization, member or
 * not): the session switches, every cached answer of the previous organization goes, and its dashboard opens.
 */
function useEnterOrganization() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  return useMutation({
    mutationFn: (organizationId: string) => api('/auth/switch-organization', { method: 'POST', body: { organizationId } }),
    onSuccess: async () => {
      await navigate('/dashboard');
      await queryClient.resetQueries();
    },
  });
}

function OrganizationTable({ search, onEdit }: { search: string; onEdit: (organization: OrganizationSettings) => void }) {
  const pager = useCursorPager();
  const organizations = usePlatformOrganizations(search, pager.cursor);
  const enter = useEnterOrganization();
  if (organizations.isPending) return <LoadingState label="Loading organizations…" />;
  if (organizations.isError) return <ErrorState title="Organizations could not be loaded" error={organizations.error} onRetry={() => void organizations.refetch()} />;
  const { items, nextCursor } = organizations.data;
  if (items.length === 0) return <EmptyState title={search ? 'No organization matches this search' : 'No organizations yet'} />;
  const limit = (value: number | null) => (value === null ? '—' : formatNumber(value));
  return (
    <>
      <div className="table-wrap" role="region" aria-label="Organizations" tabIndex={0}>
        <table className="table" aria-busy={organizations.isPlaceholderData || undefined}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" className="hide-narrow">Slug</th>
              <th scope="col" className="num hide-narrow">Max members</th>
              <th scope="col" className="num hide-narrow">Max devices</th>
              <th scope="col" className="hide-narrow">Created</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {items.map((org) => (
              <tr key={org.id}>
                <td>{org.name}</td>
                <td className="hide-narrow mono">{org.slug}</td>
                <td className="num hide-narrow">{limit(org.maxUsers)}</td>
                <td className="num hide-narrow">{limit(org.maxDevices)}</td>
                <td className="hide-narrow">{formatTime(org.createdAt, organizationZone())}</td>
                <td>
                  <div className="row-actions">
                    <button type="button" className="button button-small button-primary" onClick={() => enter.mutate(org.id)} disabled={enter.isPending} aria-label={`Open ${org.name}`}>Open</button>
                    <button type="button" className="button button-small" onClick={() => onEdit(org)} aria-label={`Edit ${org.name}`}>Edit</button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {enter.isError && <p className="field-error" role="alert">The organization could not be opened: {enter.error.message}</p>}
      <Pager label="Organization pages" page={pager.page} nextCursor={nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={organizations.isPlaceholderData} />
    </>
  );
}

/** An optional positive whole number from a text box: null when empty, 'invalid' when not one. */
function optionalCount(text: string): number | null | 'invalid' {
  if (!text.trim()) return null;
  const value = Number(text);
  return Number.isInteger(value) && value >= 1 ? value : 'invalid';
}

function OrganizationDialog({ organization, onClose, onSaved }: {
  organization: OrganizationSettings | null;
  onClose: () => void;
  onSaved: (organization: OrganizationSettings, created: boolean) => void;
}) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(organization?.name ?? '');
  const [slug, setSlug] = useState(organization?.slug ?? '');
  const [maxUsers, setMaxUsers] = useState(organization?.maxUsers?.toString() ?? '');
  const [maxDevices, setMaxDevices] = useState(organization?.maxDevices?.toString() ?? '');
  const [local, setLocal] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) => organization
      ? api<OrganizationSettings>(`/organizations/${organization.id}`, { method: 'PATCH', body })
      : api<OrganizationSettings>('/organizations', { method: 'POST', body }),
    onSuccess: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: platformKeys.organizations });
      await queryClient.invalidateQueries({ queryKey: platformKeys.stats });
      // A new organization appears in the creator's switcher.
      await queryClient.invalidateQueries({ queryKey: keys.me });
      onSaved(saved, !organization);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const users = optionalCount(maxUsers);
    const devices = optionalCount(maxDevices);
    const problems: Record<string, string> = {};
    if (!name.trim()) problems.name = 'Enter a name.';
    if (slug && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(slug)) problems.slug = 'Use lower-case letters, digits and dashes (up to 63), starting with a letter or digit.';
    if (users === 'invalid') problems.maxUsers = 'Enter a whole number of at least 1, or leave it empty for no limit.';
    if (devices === 'invalid') problems.maxDevices = 'Enter a whole number of at least 1, or leave it empty for no limit.';
    setLocal(problems);
    if (Object.keys(problems).length > 0) return;
    const wanted: Record<string, unknown> = { name: name.trim(), ...(slug && { slug }), maxUsers: users, maxDevices: devices };
    // Editing sends only what changed, so the audit log says exactly that.
    const body = organization ? Object.fromEntries(Object.entries(wanted).filter(([key, value]) => organization[key as keyof OrganizationSettings] !== value)) : wanted;
    if (Object.keys(body).length === 0) return onClose();
    save.mutate(body);
  };
  const errors = formErrors(save.error, ['name', 'slug', 'maxUsers', 'maxDevices'], local);
  return (
    <Dialog title={organization ? `Edit ${organization.name}` : 'New organization'} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <TextField id="platform-org-name" label="Name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} error={errors.field('name')} />
        <TextField id="platform-org-slug" label="Slug" maxLength={63} placeholder={organization ? undefined : 'From the name'} value={slug} onChange={(e) => setSlug(e.target.value)} error={errors.field('slug')} />
        <div className="field-row">
          <TextField id="platform-org-users" label="Max members" type="number" inputMode="numeric" min={1} placeholder="No limit" value={maxUsers} onChange={(e) => setMaxUsers(e.target.value)} error={errors.field('maxUsers')} />
          <TextField id="platform-org-devices" label="Max devices" type="number" inputMode="numeric" min={1} placeholder="No limit" value={maxDevices} onChange={(e) => setMaxDevices(e.target.value)} error={errors.field('maxDevices')} />
        </div>
        {!organization && <p className="field-hint">You become the new organization’s owner and can then invite its administrators.</p>}
        {errors.other && <p className="form-error" role="alert">{errors.other}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button-primary" disabled={save.isPending}>{save.isPending ? 'Saving…' : organization ? 'Save changes' : 'Create organization'}</button>
        </div>
      </form>
    </Dialog>
  );
}
