import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError, api } from '../../api/client';
import { adminKeys, useMemberList, usePendingInvitations, type Invitation, type Member } from '../../api/admin';
import { useSites } from '../../api/queries';
import type { Role, Site } from '../../api/types';
import { ROLES, roleAtLeast } from '../../../shared/roles';
import { ConfirmDialog, Dialog } from '../../components/Dialog';
import { Notice, useNotice } from '../../components/Notice';
import { Pager, useCursorPager } from '../../components/Pager';
import { useSession } from '../../components/session';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { formatTime, organizationZone } from '../../lib/format';
import { useTitle } from '../../lib/title';

const ROLE_LABELS: Record<Role, string> = { owner: 'Owner', admin: 'Admin', manager: 'Manager', operator: 'Operator', viewer: 'Viewer' };

/** The roles the signed-in user may hand out: none above their own (platform administrators: all). */
function useGrantableRoles(): Role[] {
  const { me, organization } = useSession();
  if (me.user.isSuperadmin) return [...ROLES];
  const mine = organization?.role ?? 'viewer';
  return ROLES.filter((role) => roleAtLeast(mine, role));
}

export function siteSummary(siteIds: string[] | null, sites: Map<string, Site> | undefined): string {
  if (siteIds === null) return 'All sites';
  if (siteIds.length === 0) return 'No sites';
  return siteIds.map((id) => sites?.get(id)?.name ?? 'Unknown site').join(', ');
}

/** `/admin/members`: who belongs to the organization, their roles and sites; invitations. */
export function MembersPage() {
  useTitle('Members');
  const notice = useNotice();
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Members</h1>
          <p className="muted">Roles decide what members may do; a site restriction limits what they see.</p>
        </div>
      </header>
      <Notice message={notice.message} />
      <form className="filters" role="search" aria-label="Search members" onSubmit={(e) => { e.preventDefault(); setQuery(search.trim()); }}>
        <div className="field">
          <label htmlFor="member-search">Search</label>
          <input id="member-search" type="search" placeholder="Name or email" value={search} onChange={(e) => setSearch(e.target.value)} onBlur={() => setQuery(search.trim())} />
        </div>
        <button type="submit" className="button">Search</button>
      </form>
      <MemberTable key={query} search={query} onDone={notice.show} />
      <InviteForm onDone={notice.show} />
      <PendingInvitations onDone={notice.show} />
    </div>
  );
}

function MemberTable({ search, onDone }: { search: string; onDone: (message: string) => void }) {
  const pager = useCursorPager();
  const members = useMemberList(search, pager.cursor);
  const sites = useSites();
  const grantable = useGrantableRoles();
  const { me } = useSession();
  const queryClient = useQueryClient();
  const [editingSites, setEditingSites] = useState<Member | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);

  const update = useMutation({
    mutationFn: ({ member, patch }: { member: Member; patch: Partial<Pick<Member, 'role' | 'siteIds' | 'isActive'>>; message: string }) =>
      api<Member>(`/members/${member.userId}`, { method: 'PATCH', body: patch }),
    onSuccess: async (_saved, { message }) => {
      await queryClient.invalidateQueries({ queryKey: adminKeys.members });
      setEditingSites(null);
      onDone(message);
    },
  });
  const remove = useMutation({
    mutationFn: (member: Member) => api<void>(`/members/${member.userId}`, { method: 'DELETE' }),
    onSuccess: async (_void, member) => {
      await queryClient.invalidateQueries({ queryKey: adminKeys.members });
      setRemoving(null);
      onDone(`${member.name || member.email} was removed.`);
    },
  });

  if (members.isPending) return <LoadingState label="Loading members…" />;
  if (members.isError) return <ErrorState title="Members could not be loaded" error={members.error} onRetry={() => void members.refetch()} />;
  const { items, nextCursor } = members.data;
  if (items.length === 0) return <EmptyState title={search ? 'No members match this search' : 'No members yet'} />;
  return (
    <>
      {update.error && !editingSites && <p className="form-error" role="alert">{update.error.message}</p>}
      <div className="table-wrap" role="region" aria-label="Members" tabIndex={0}>
        <table className="table" aria-busy={members.isPlaceholderData || update.isPending || undefined}>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Role</th>
              <th scope="col">Sites</th>
              <th scope="col" className="hide-narrow">Status</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {items.map((member) => {
              const self = member.userId === me.user.id;
              const label = member.name || member.email;
              const canManage = !self && grantable.includes(member.role);
              return (
                <tr key={member.userId}>
                  <td>
                    <div>{member.name}{self && <span className="muted"> (you)</span>}</div>
                    <div className="muted small">{member.email}</div>
                  </td>
                  <td>
                    {canManage ? (
                      <select
                        aria-label={`Role of ${label}`}
                        value={member.role}
                        disabled={update.isPending}
                        onChange={(e) => update.mutate({ member, patch: { role: e.target.value as Role }, message: `${label} is now ${ROLE_LABELS[e.target.value as Role].toLowerCase()}.` })}
                      >
                        {grantable.map((role) => <option key={role} value={role}>{ROLE_LABELS[role]}</option>)}
                      </select>
                    ) : (
                      ROLE_LABELS[member.role]
                    )}
                  </td>
                  <td>{siteSummary(member.siteIds, sites.data)}</td>
                  <td className="hide-narrow">{member.isActive ? 'Active' : <span className="badge">Deactivated</span>}</td>
                  <td>
                    {canManage && (
                      <div className="row-actions">
                        <button type="button" className="button button-small" onClick={() => { update.reset(); setEditingSites(member); }} aria-label={`Sites of ${label}`}>Sites</button>
                        <button
                          type="button"
                          className="button button-small"
                          disabled={update.isPending}
                          onClick={() => update.mutate({ member, patch: { isActive: !member.isActive }, message: `${label} was ${member.isActive ? 'deactivated' : 'reactivated'}.` })}
                          aria-label={`${member.isActive ? 'Deactivate' : 'Reactivate'} ${label}`}
                        >
                          {member.isActive ? 'Deactivate' : 'Reactivate'}
                        </button>
                        <button type="button" className="button button-small button-danger" onClick={() => { remove.reset(); setRemoving(member); }} aria-label={`Remove ${label}`}>Remove</button>
                      </div>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <Pager label="Member pages" page={pager.page} nextCursor={nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={members.isPlaceholderData} />
      {editingSites && (
        <Dialog title={`Sites of ${editingSites.name || editingSites.email}`} onClose={() => setEditingSites(null)}>
          <SiteRestrictionForm
            initial={editingSites.siteIds}
            busy={update.isPending}
            error={update.error}
            submitLabel="Save sites"
            onCancel={() => setEditingSites(null)}
            onSubmit={(siteIds) => update.mutate({ member: editingSites, patch: { siteIds }, message: `Sites of ${editingSites.name || editingSites.email} saved.` })}
          />
        </Dialog>
      )}
      {removing && (
        <ConfirmDialog
          title={`Remove ${removing.name || removing.email}?`}
          confirmLabel="Remove member"
          busy={remove.isPending}
          error={remove.error}
          onConfirm={() => remove.mutate(removing)}
          onClose={() => setRemoving(null)}
        >
          <p>They lose access to this organization at once. They can be invited again later.</p>
        </ConfirmDialog>
      )}
    </>
  );
}

/** A site restriction: every site (null), or a chosen set. */
export function SiteChecklist({ value, onChange, idPrefix }: { value: string[] | null; onChange: (value: string[] | null) => void; idPrefix: string }) {
  const sites = useSites();
  const list = [...(sites.data?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <fieldset className="checklist">
      <legend>Sites</legend>
      <label>
        <input type="checkbox" id={`${idPrefix}-all`} checked={value === null} onChange={(e) => onChange(e.target.checked ? null : [])} />
        All sites, including new ones
      </label>
      {sites.isPending && <span className="muted">Loading sites…</span>}
      {value !== null && list.length === 0 && !sites.isPending && <span className="muted">No sites yet.</span>}
      {value !== null && list.map((site) => (
        <label key={site.id}>
          <input
            type="checkbox"
            checked={value.includes(site.id)}
            onChange={(e) => onChange(e.target.checked ? [...value, site.id] : value.filter((id) => id !== site.id))}
          />
          {site.name}
        </label>
      ))}
    </fieldset>
  );
}

function SiteRestrictionForm({ initial, busy, error, submitLabel, onSubmit, onCancel }: {
  initial: string[] | null;
  busy: boolean;
  error: unknown;
  submitLabel: string;
  onSubmit: (siteIds: string[] | null) => void;
  onCancel: () => void;
}) {
  const [value, setValue] = useState(initial);
  return (
    <form onSubmit={(e) => { e.preventDefault(); onSubmit(value); }}>
      <SiteChecklist value={value} onChange={setValue} idPrefix="restrict" />
      {error instanceof Error && <p className="form-error" role="alert">{error.message}</p>}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onCancel}>Cancel</button>
        <button type="submit" className="button button-primary" disabled={busy}>{busy ? 'Saving…' : submitLabel}</button>
      </div>
    </form>
  );
}

function InviteForm({ onDone }: { onDone: (message: string) => void }) {
  const grantable = useGrantableRoles();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [siteIds, setSiteIds] = useState<string[] | null>(null);
  const [copied, setCopied] = useState('');
  const invite = useMutation({
    mutationFn: () => api<Invitation & { inviteUrl: string }>('/invitations', { method: 'POST', body: { email: email.trim(), role, siteIds } }),
    onSuccess: async (created) => {
      await queryClient.invalidateQueries({ queryKey: adminKeys.invitations });
      setEmail('');
      setCopied('');
      onDone(`Invitation for ${created.email} created.`);
    },
  });
  const serverError = invite.error instanceof ApiError ? invite.error : null;
  const emailError = serverError?.fieldMessage('email');
  const other = invite.error && !emailError && !serverError?.fieldMessage('role') ? invite.error : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate();
  };
  const copy = async (url: string) => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied('Link copied to the clipboard.');
    } catch {
      setCopied('Copying was refused; select the link and copy it.');
    }
  };

  return (
    <section className="section panel" aria-labelledby="invite-title">
      <h2 id="invite-title">Invite someone</h2>
      <form onSubmit={submit} noValidate>
        <div className="field-row">
          <div className="field">
            <label htmlFor="invite-email">Email</label>
            <input
              id="invite-email"
              type="email"
              autoComplete="off"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              aria-invalid={emailError ? true : undefined}
              aria-describedby={emailError ? 'invite-email-error' : undefined}
            />
            {emailError && <span id="invite-email-error" className="field-error">{emailError}</span>}
          </div>
          <div className="field">
            <label htmlFor="invite-role">Role</label>
            <select id="invite-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {grantable.map((r) => <option key={r} value={r}>{ROLE_LABELS[r]}</option>)}
            </select>
            {serverError?.fieldMessage('role') && <span className="field-error">{serverError.fieldMessage('role')}</span>}
          </div>
        </div>
        <SiteChecklist value={siteIds} onChange={setSiteIds} idPrefix="invite" />
        {other && <p className="form-error" role="alert">{other.message}</p>}
        <button type="submit" className="button button-primary" disabled={invite.isPending || !email.trim()}>
          {invite.isPending ? 'Inviting…' : 'Invite'}
        </button>
      </form>
      {invite.data && (
        <div className="form-success">
          <p>Send this link to {invite.data.email}. It works once, until {formatTime(invite.data.expiresAt, organizationZone())}.</p>
          <div className="invite-link">
            <label htmlFor="invite-url" className="visually-hidden">Invite link</label>
            <input id="invite-url" readOnly value={invite.data.inviteUrl} onFocus={(e) => e.target.select()} />
            <button type="button" className="button" onClick={() => void copy(invite.data.inviteUrl)}>Copy link</button>
          </div>
          <p className="small muted" role="status">{copied}</p>
        </div>
      )}
    </section>
  );
}

function PendingInvitations({ onDone }: { onDone: (message: string) => void }) {
  const invitations = usePendingInvitations();
  const sites = useSites();
  const queryClient = useQueryClient();
  const [revoking, setRevoking] = useState<Invitation | null>(null);
  const revoke = useMutation({
    mutationFn: (invitation: Invitation) => api<void>(`/invitations/${invitation.id}`, { method: 'DELETE' }),
    onSuccess: async (_void, invitation) => {
      await queryClient.invalidateQueries({ queryKey: adminKeys.invitations });
      setRevoking(null);
      onDone(`Invitation for ${invitation.email} revoked.`);
    },
  });
  return (
    <section className="section" aria-labelledby="pending-title">
      <h2 id="pending-title">Pending invitations</h2>
      {invitations.isPending ? (
        <LoadingState label="Loading invitations…" />
      ) : invitations.isError ? (
        <ErrorState title="Invitations could not be loaded" error={invitations.error} onRetry={() => void invitations.refetch()} />
      ) : invitations.data.length === 0 ? (
        <p className="muted">No pending invitations.</p>
      ) : (
        <div className="table-wrap" role="region" aria-label="Pending invitations" tabIndex={0}>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Sites</th>
                <th scope="col" className="hide-narrow">Expires</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {invitations.data.map((invitation) => (
                <tr key={invitation.id}>
                  <td>{invitation.email}</td>
                  <td>{ROLE_LABELS[invitation.role]}</td>
                  <td>{siteSummary(invitation.siteIds, sites.data)}</td>
                  <td className="hide-narrow">{formatTime(invitation.expiresAt, organizationZone())}</td>
                  <td>
                    <div className="row-actions">
                      <button type="button" className="button button-small button-danger" onClick={() => { revoke.reset(); setRevoking(invitation); }} aria-label={`Revoke invitation for ${invitation.email}`}>
                        Revoke
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {revoking && (
        <ConfirmDialog
          title={`Revoke the invitation for ${revoking.email}?`}
          confirmLabel="Revoke invitation"
          busy={revoke.isPending}
          error={revoke.error}
          onConfirm={() => revoke.mutate(revoking)}
          onClose={() => setRevoking(null)}
        >
          <p>The link stops working at once.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
