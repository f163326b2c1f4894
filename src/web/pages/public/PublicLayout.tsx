import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { ThemeToggle } from '../../components/ThemeToggle';
import './public.css';

/** The frame of the public community pages: no sign-in, no organization, no navigation of the console. */
export function PublicLayout({ children }: { children: ReactNode }) {
  return (
    <div className="public-page">
      <header className="public-header">
        <Link to="/public" className="public-brand">
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <span>Vigil community traffic</span>
        </Link>
        <div className="public-header-actions">
          <ThemeToggle />
          <Link to="/login" className="button button-small">Sign in</Link>
        </div>
      </header>
      <main id="main" className="public-main">{children}</main>
      <footer className="public-footer muted small">
        Shared by the organizations that run these radars. Locations are approximate (moved by about 100 m); figures cover the last 30 days.
      </footer>
    </div>
  );
}
