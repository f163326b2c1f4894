import { Link, useLocation } from 'react-router';
import { useTitle } from '../lib/title';

export function NotFoundPage() {
  useTitle('Page not found');
  const location = useLocation();
  return (
    <div className="page message-page">
      <h1>Page not found</h1>
      <p>There is no page at <code>{location.pathname}</code>. Check the address, or start again from the overview.</p>
      <p><Link to="/dashboard" className="button">Go to the overview</Link></p>
    </div>
  );
}
