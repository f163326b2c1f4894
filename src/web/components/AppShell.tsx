import { useEffect, useRef, useState } from 'react';
import { Link, NavLink, Outlet, useLocation } from 'react-router';
import { useCapabilities } from '../lib/capabilities';
import { setDisplayContext } from '../lib/format';
import { useLiveUpdates, type LiveState } from '../lib/live';
import { NoOrganizationPage } from '../pages/NoOrganizationPage';
import { navigationFor } from './navigation';
import { useNotice } from './Notice';
import { OrgSwitcher } from './OrgSwitcher';
import { useSession } from './session';
import { ThemeToggle } from './ThemeToggle';
import { UserMenu } from './UserMenu';

const LIVE_TEXT: Record<LiveState, string> = {
  live: 'Live',
  connecting: 'Connecting…',
  offline: 'Offline',
};

function LiveIndicator({ state }: { state: LiveState }) {
  return (
    <span className={`live live-${state}`} title={state === 'live' ? 'New data appears as it arrives' : 'Live updates are paused; data refreshes when you reload'}>
      <span className="live-dot" aria-hidden="true" />
      <span className="live-text">{LIVE_TEXT[state]}</span>
    </span>
  );
}

/** The signed-in layout: top bar, navigation (a menu on phones) and the page. */
export function AppShell() {
  const { me } = useSession();
  const location = useLocation();
  const notification = useNotice(10_000);
  const live = useLiveUpdates(me.organization?.id ?? null, notification.show);
  const [menuOpen, setMenuOpen] = useState(false);
  const [shownPath, setShownPath] = useState(location.pathname);
  const main = useRef<HTMLElement>(null);
  const menuButton = useRef<HTMLButtonElement>(null);
  const firstRender = useRef(true);
  const sections = navigationFor(me, useCapabilities(me));
  // Before the page draws: its dates and numbers in the organization's locale, site-less times in its zone.
  // A change (settings saved) shows as each page next draws; remounting the page would drop its state.
  setDisplayContext({ locale: me.organization?.locale, timezone: me.organization?.timezone });

  // A new page closes the phone menu…
  if (shownPath !== location.pathname) {
    setShownPath(location.pathname);
    setMenuOpen(false);
  }
  // …and moves focus to the content, as a full page load would.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    main.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [location.pathname]);

  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setMenuOpen(false);
        menuButton.current?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <button
          ref={menuButton}
          type="button"
          className="icon-button menu-button"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          <span aria-hidden="true">{menuOpen ? '✕' : '☰'}</span>
          <span className="visually-hidden">Menu</span>
        </button>
        <Link to="/dashboard" className="brand">
          <img src="/favicon.svg" alt="" width="24" height="24" />
          <span>Vigil</span>
        </Link>
        <OrgSwitcher className="wide-only" />
        <div className="topbar-end">
          <LiveIndicator state={live} />
          <ThemeToggle />
          <UserMenu />
        </div>
      </header>
      {/* Notifications for this user as they arrive (alerts from an in-app channel, "your alert resolved"). */}
      <p className={`notice notice-live${notification.message ? '' : ' notice-empty'}`} role="status" aria-live="polite">{notification.message}</p>
      <div className="body">
        <nav id="main-nav" className={`sidenav${menuOpen ? ' open' : ''}`} aria-label="Main">
          <OrgSwitcher className="narrow-only" />
          {sections.map((section) => (
            <div key={section.title ?? 'main'} className="nav-section">
              {section.title && <h2 className="nav-title">{section.title}</h2>}
              <ul>
                {section.items.map((item) => (
                  <li key={item.to}>
                    {/* /alerts is not current on /alerts/rules, which has its own entry. */}
                    <NavLink to={item.to} className="nav-link" end={section.items.some((other) => other.to.startsWith(`${item.to}/`))}>
                      {item.label}
                    </NavLink>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </nav>
        {menuOpen && <div className="nav-backdrop" aria-hidden="true" onClick={() => setMenuOpen(false)} />}
        <main id="main" ref={main} tabIndex={-1}>
          {me.organization ? <Outlet /> : <NoOrganizationPage />}
        </main>
      </div>
    </div>
  );
}
