import { useCallback, useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useAllCustomers, type Challan } from '../../api/challans';
import { useOrganization } from '../../api/queries';
import { useSession } from '../../components/session';
import { may } from '../../lib/access';
import { useUpdateSearchParams } from '../../lib/params';
import { useTitle } from '../../lib/title';
import { ChallanDrawer } from './ChallanDrawer';
import { ChallanFilterPanel } from './ChallanFilters';
import { queryOf, todayIn } from './filters';
import { Register, ShortcutHelp, type RegisterHandle } from './Register';
import { UndoToast, useUndoToast } from './UndoToast';
import './challans.css';

function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const list = window.matchMedia(query);
    const onChange = () => setMatches(list.matches);
    list.addEventListener('change', onChange);
    onChange();
    return () => list.removeEventListener('change', onChange);
  }, [query]);
  return matches;
}

/**
 * `/challans`: the delivery-challan register. Search, filters and sort live in the address; the list is
 * paged by the server, follows the live stream, and is driven from the keyboard by those who work in it
 * all day. On a phone the rows are cards with the POD upload up front.
 */
export function ChallansPage() {
  useTitle('Challans');
  const { me } = useSession();
  const canWrite = may(me, 'challan.write');
  const canDelete = may(me, 'challan.delete');
  const [params] = useSearchParams();
  const query = queryOf(params);
  const updateParams = useUpdateSearchParams();
  const customers = useAllCustomers();
  const organization = useOrganization();
  const zone = organization.data?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const phone = useMediaQuery('(max-width: 700px)');
  const toast = useUndoToast();
  const [editing, setEditing] = useState<Challan | 'new' | null>(null);
  const [filtersOpen, setFiltersOpen] = useState(false);
  const [helpOpen, setHelpOpen] = useState(false);
  const register = useRef<RegisterHandle>(null);

  const [search, setSearch] = useState(query.q ?? '');
  const searchBox = useRef<HTMLInputElement>(null);
  const pause = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(pause.current), []);
  const onSearch = (value: string) => {
    setSearch(value);
    clearTimeout(pause.current);
    pause.current = setTimeout(() => updateParams({ q: value.trim() || null }), 250);
  };
  // A chip removed or a link followed changes the address: the box follows it.
  useEffect(() => {
    if (document.activeElement !== searchBox.current) setSearch(query.q ?? '');
  }, [query.q]);

  const openNew = useCallback(() => { if (canWrite) setEditing('new'); }, [canWrite]);

  // The page's keys; those about rows are the register's. Typing in a field, or a dialog open, keeps them off.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const target = e.target as HTMLElement;
      // A ticked checkbox keeps the focus, and the shortcuts keep working from it.
      const typing = target.closest('input:not([type="checkbox"]):not([type="radio"]), textarea, select, [contenteditable="true"]');
      if (typing || document.querySelector('dialog[open]')) return;
      if (e.key === 'Escape') { setHelpOpen(false); setFiltersOpen(false); return; }
      if (e.key === '/') { e.preventDefault(); searchBox.current?.focus(); searchBox.current?.select(); return; }
      if (e.key === 'n') { e.preventDefault(); openNew(); return; }
      if (e.key === '?') { setHelpOpen((open) => !open); return; }
      register.current?.onKey(e);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [openNew]);

  return (
    <div className="page challan-page">
      <header className="page-header">
        <div>
          <h1>Challans</h1>
          <p className="muted">The delivery-challan register: proof of delivery and invoices. It updates live.</p>
        </div>
        <div className="challan-header-actions">
          <Link className="button" to="/challans/customers">Customers</Link>
          {canDelete && <Link className="button" to="/challans/deleted">Deleted</Link>}
          <div className="challan-help">
            <button type="button" className="button" aria-expanded={helpOpen} aria-controls="challan-shortcuts" onClick={() => setHelpOpen((open) => !open)}>
              <span aria-hidden="true">⌨</span><span className="hide-narrow">Shortcuts</span><span className="visually-hidden narrow-label">Keyboard shortcuts</span>
            </button>
            {helpOpen && <ShortcutHelp id="challan-shortcuts" onClose={() => setHelpOpen(false)} />}
          </div>
          {canWrite && <button type="button" className="button button-primary" onClick={openNew}>New challan</button>}
        </div>
      </header>
      <form className="challan-toolbar" role="search" aria-label="Search challans" onSubmit={(e) => { e.preventDefault(); clearTimeout(pause.current); updateParams({ q: search.trim() || null }); }}>
        <label htmlFor="challan-search" className="visually-hidden">Search</label>
        <input id="challan-search" ref={searchBox} type="search" placeholder={phone ? 'Search every field' : 'Search every field: number, customer, goods, people, invoice'} maxLength={200}
          value={search} onChange={(e) => onSearch(e.target.value)} onKeyDown={(e) => { if (e.key === 'Escape') e.currentTarget.blur(); }} />
        <button type="button" className="button" aria-expanded={filtersOpen} onClick={() => setFiltersOpen((open) => !open)}>
          <span aria-hidden="true">⚲</span>Filters
        </button>
      </form>
      {filtersOpen && (
        <ChallanFilterPanel query={query} customers={customers.data ?? []} update={updateParams} onClose={() => setFiltersOpen(false)} />
      )}
      <Register key={JSON.stringify(query)} ref={register} query={query} customers={customers.data} zone={zone} phone={phone}
        canWrite={canWrite} canDelete={canDelete} update={updateParams} onOpen={setEditing} onDone={toast.show} onNew={openNew} />
      {editing && (
        <ChallanDrawer
          key={editing === 'new' ? 'new' : editing.id}
          challan={editing === 'new' ? null : editing}
          customers={customers.data ?? []}
          today={todayIn(zone)}
          zone={zone}
          canWrite={canWrite}
          onClose={() => setEditing(null)}
          onSaved={(saved, created) => {
            toast.show({ message: created ? `Challan ${saved.number} created.` : `Challan ${saved.number} saved.` });
            // A new challan stays open on itself, ready for its signed copy.
            setEditing(created ? saved : null);
          }}
          onUploaded={(message, updated) => {
            toast.show({ message });
            setEditing(updated);
          }}
        />
      )}
      <UndoToast toast={toast} />
    </div>
  );
}
