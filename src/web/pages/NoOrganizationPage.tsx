import { useSession } from '../components/session';
import { useTitle } from '../lib/title';

/** For a signed-in user who belongs to no organization (all memberships removed). */
export function NoOrganizationPage() {
  useTitle('No organization');
  const { me } = useSession();
  return (
    <div className="page message-page">
      <h1>You are not in any organization</h1>
      <p>
        You are signed in as {me.user.email}, but no organization has you as a member any more. Ask an
        administrator for a new invitation.
      </p>
    </div>
  );
}
