import { useEffect, useId, useRef, useState } from 'react';
import { Link } from 'react-router';
import { api, ApiError } from '../api/client';
import { humanize } from '../lib/format';
import { useSession } from './session';

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? '') + (parts.length > 1 ? parts[parts.length - 1]![0] : '')).toUpperCase() || '?';
}

/** The signed-in user's menu: who, which role, sign out. A disclosure: Escape or a click elsewhere closes it. */
export function UserMenu() {
  const { me, organization } = useSession();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const panelId = useId();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      }
    };
    const onPointer = (event: PointerEvent) => {
      if (root.current && !root.current.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onPointer);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [open]);

  const signOut = async () => {
    setError(null);
    try {
      await api('/auth/logout', { method: 'POST', redirectOn401: false });
    } catch (caught) {
      // Already signed out is fine; anything else is worth saying.
      if (!(caught instanceof ApiError && caught.status === 401)) {
        setError(caught instanceof Error ? caught.message : 'Signing out failed.');
        return;
      }
    }
    // A fresh page: no data, stream or token of this session survives.
    window.location.assign('/login');
  };

  return (
    <div className="user-menu" ref={root}>
      <button
        ref={button}
        type="button"
        className="user-button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="avatar" aria-hidden="true">{initials(me.user.name)}</span>
        <span className="user-button-name" aria-hidden="true">{me.user.name}</span>
        {/* The name is hidden on phones; the button keeps it in its accessible name. */}
        <span className="visually-hidden">Account menu for {me.user.name}</span>
      </button>
      <div id={panelId} className="user-panel" hidden={!open}>
        <p className="user-panel-name">{me.user.name}</p>
        <p className="user-panel-email">{me.user.email}</p>
        {organization && (
          <p className="user-panel-role">
            {humanize(organization.role)} in {organization.name}
            {me.user.isSuperadmin && <> · platform administrator</>}
          </p>
        )}
        <Link className="menu-link" to="/account" onClick={() => setOpen(false)}>Password and API tokens</Link>
        <a className="menu-link" href="/docs">API documentation</a>
        <button type="button" className="button button-block" onClick={() => void signOut()}>
          Sign out
        </button>
        {error && <p className="field-error" role="alert">{error}</p>}
      </div>
    </div>
  );
}
