import type { ReactNode } from 'react';
import { may, type Action } from '../lib/access';
import { NotAllowedPage } from '../pages/NotAllowedPage';
import { useSession } from './session';

/** Renders its page only for roles that may perform `action`; others get the "not allowed" page. */
export function RequireAction({ action, children }: { action: Action; children: ReactNode }) {
  const { me } = useSession();
  return may(me, action) ? <>{children}</> : <NotAllowedPage />;
}

/** Renders its page only for platform administrators. */
export function RequireSuperadmin({ children }: { children: ReactNode }) {
  const { me } = useSession();
  return me.user.isSuperadmin ? <>{children}</> : <NotAllowedPage />;
}
