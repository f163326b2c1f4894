import { Link } from 'react-router';
import { useSession } from '../components/session';
import { humanize } from '../lib/format';
import { useTitle } from '../lib/title';

/** Shown for a console page the user's role may not use (typed by hand or from an old link). */
export function NotAllowedPage() {
  useTitle('Not allowed');
  const { organization } = useSession();
  return (
    <div className="page message-page">
      <h1>You don't have access to this page</h1>
      <p>
        {organization
          ? <>Your role in {organization.name} is <strong>{humanize(organization.role)}</strong>, which does not include this page.</>
          : <>Your account does not include this page.</>}{' '}
        If you need it, ask an administrator of your organization.
      </p>
      <p><Link to="/dashboard" className="button">Go to the overview</Link></p>
    </div>
  );
}
