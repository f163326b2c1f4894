import { createContext, useContext } from 'react';
import { Navigate, Outlet, useLocation } from 'react-router';
import { ApiError } from '../api/client';
import { useMe } from '../api/queries';
import type { Me, Membership } from '../api/types';
import { ErrorState, FullPageLoading } from './states';

interface Session {
  me: Me;
  /** The organization the session acts in (name and role), when the user belongs to one. */
  organization: Membership | null;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside <RequireSession>');
  return session;
}

/** The sign-in page's address that brings the user back here afterwards. */
export function loginPath(location: { pathname: string; search: string }): string {
  const next = `${location.pathname}${location.search}`;
  return next === '/' || next.startsWith('/login') ? '/login' : `/login?next=${encodeURIComponent(next)}`;
}

/** The signed-in part of the console: sends visitors without a session to the sign-in page. */
export function RequireSession() {
  const location = useLocation();
  const me = useMe();
  if (me.isPending) return <FullPageLoading />;
  if (me.error instanceof ApiError && me.error.status === 401) return <Navigate to={loginPath(location)} replace />;
  // A failed re-check (network trouble) keeps the session already known; only a first failure stops here.
  if (!me.data) {
    return (
      <main className="centered-page">
        <ErrorState title="Vigil could not load your session" error={me.error} onRetry={() => void me.refetch()} />
      </main>
    );
  }
  const active = me.data.organization;
  const organization = active
    ? me.data.organizations.find((o) => o.id === active.id) ?? { id: active.id, name: active.name, slug: '', role: active.role }
    : null;
  return (
    <SessionContext.Provider value={{ me: me.data, organization }}>
      <Outlet />
    </SessionContext.Provider>
  );
}
