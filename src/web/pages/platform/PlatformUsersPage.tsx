import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { platformKeys, usePlatformUsers, type PlatformUser } from '../../api/platform';
import { ConfirmDialog } from '../../components/Dialog';
import { Notice, useNotice } from '../../components/Notice';
import { Pager, useCursorPager } from '../../components/Pager';
import { useSession } from '../../components/session';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { formatTime, organizationZone } from '../../lib/format';
import { useTitle } from '../../lib/title';
import { useSearch } from './PlatformOrganizationsPage';

type Change = { user: PlatformUser; patch: { isActive?: boolean; isSuperadmin?: boolean } };

function describe({ user, patch }: Change) {
  if (patch.isActive === false) return { title: `Deactivate ${user.name}?`, confirm: 'Deactivate', text: 'They are signed out everywhere and cannot sign in until reactivated. Their memberships stay.', done: `${user.name} deactivated.` };
  if (patch.isActive === true) return { title: `Reactivate ${user.name}?`, confirm: 'Reactivate', text: 'They can sign in again with their password.', done: `${user.name} reactivated.` };
  if (patch.isSuperadmin) return { title: `Make ${user.name} a platform administrator?`, confirm: 'Make administrator', text: 'They will see and change every organization and user of this Vigil.', done: `${user.name} is now a platform administrator.` };
  return { title: `Remove platform administration from ${user.name}?`, confirm: 'Remove', text: 'They keep their roles in their own organizations.', done: `${user.name} is no longer a platform administrator.` };
}

/** `/platform/users` (platform administrators): every user account. */
export function PlatformUsersPage() {
  useTitle('All users');
  const search = useSearch();
  const notice = useNotice();
  const [change, setChange] = useState<Change | null>(null);
  const queryClient = useQueryClient();
  const update = useMutation({
    mutationFn: ({ user, patch }: Change) => api<PlatformUser>(`/admin/users/${user.id}`, { method: 'PATCH', body: patch }),
    onSuccess: async (_saved, variables) => {
      await queryClient.invalidateQueries({ queryKey: platformKeys.users });
      setChange(null);
      notice.show(describe(variables).done);
    },
  });
  const text = change ? describe(change) : null;
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>All users</h1>
          <p className="muted">Every account on this Vigil, in every organization.</p>
        </div>
      </header>
      <Notice message={notice.message} />
      <form className="filters" role="search" aria-label="Search users" onSubmit={search.submit}>
        <div className="field">
          <label htmlFor="user-search">Search</label>
          <input id="user-search" type="search" placeholder="Name or email" value={search.text} onChange={(e) => search.onChange(e.target.value)} />
        </div>
      </form>
      <UserTable key={search.query} search={search.query} onChange={setChange} />
      {change && text && (
        <ConfirmDialog
          title={text.title}
          confirmLabel={text.confirm}
          busy={update.isPending}
          error={update.error}
          onConfirm={() => update.mutate(change)}
          onClose={() => { setChange(null); update.reset(); }}
        >
          <p>{text.text}</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function UserTable({ search, onChange }: { search: string; onChange: (change: Change) => void }) {
  const { me } = useSession();
  const pager = useCursorPager();
  const users = usePlatformUsers(search, pager.cursor);
  if (users.isPending) return <LoadingState label="Loading users…" />;
  if (users.isError) return <ErrorState title="Users could not be loaded" error={users.error} onRetry={() => void users.refetch()} />;
  const { items, nextCursor } = users.data;
  if (items.length === 0) return <EmptyState title={search ? 'No user matches this search' : 'No users yet'} />;
  return (
    <>
      <div className="table-wrap" role="region" aria-label="Users" tabIndex={0}>
        <table className="table" aria-busy={users.isPlaceholderData || undefined}>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col" className="hide-narrow">Last sign-in</th>
              <th scope="col">State</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {items.map((user) => (
              <tr key={user.id}>
                <td>
                  {user.name}{user.isSuperadmin && <span className="badge">Platform admin</span>}
                  <div className="small muted">{user.email}</div>
                </td>
                <td className="hide-narrow">{user.lastLoginAt ? formatTime(user.lastLoginAt, organizationZone()) : <span className="muted">Never</span>}</td>
                <td>{user.isActive ? 'Active' : 'Deactivated'}</td>
                <td>
                  {user.id !== me.user.id && (
                    <div className="row-actions">
                      <button
                        type="button" className="button button-small" aria-label={`${user.isSuperadmin ? 'Remove admin' : 'Make admin'} ${user.name}`} title="Platform administration"
                        onClick={() => onChange({ user, patch: { isSuperadmin: !user.isSuperadmin } })}
                      >
                        {user.isSuperadmin ? 'Remove admin' : 'Make admin'}
                      </button>
                      <button
                        type="button" className={`button button-small${user.isActive ? ' button-danger' : ''}`} aria-label={`${user.isActive ? 'Deactivate' : 'Reactivate'} ${user.name}`}
                        onClick={() => onChange({ user, patch: { isActive: !user.isActive } })}
                      >
                        {user.isActive ? 'Deactivate' : 'Reactivate'}
                      </button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager label="User pages" page={pager.page} nextCursor={nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={users.isPlaceholderData} />
    </>
  );
}
