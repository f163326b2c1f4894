import { useEffect, useImperativeHandle, useRef, useState, type MouseEvent, type Ref } from 'react';
import { clipboardTextFor, downloadSelectedCsv, PAGE_SIZE, useChallans, type Challan, type ChallanQuery, type Customer, type SortKey } from '../../api/challans';
import { Dialog } from '../../components/Dialog';
import { Pager, useCursorPager } from '../../components/Pager';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { formatNumber } from '../../lib/format';
import { BulkBar, type Done } from './BulkActions';
import { FilterChips } from './ChallanFilters';
import { ChallanCards, ChallanTable } from './ChallanTable';
import { chipsOf, csvHref } from './filters';

export interface RegisterHandle {
  onKey: (e: KeyboardEvent) => void;
}

/** Columns whose natural first look is the smallest value (names, numbers); dates start with the newest. */
const ASCENDING_FIRST: SortKey[] = ['customerName', 'invoiceNumber'];

export const SHORTCUTS: [string, string][] = [
  ['/', 'Search'],
  ['n', 'New challan'],
  ['j / k', 'Next / previous row'],
  ['x', 'Select or unselect the row'],
  ['e', 'Open the row to edit it'],
  ['c', 'Copy the selected rows (or the row)'],
  ['Shift + click', 'Select a range of rows'],
  ['?', 'Show or hide these shortcuts'],
  ['Esc', 'Close the drawer, dialog or this list'],
];

export function ShortcutHelp({ id, onClose }: { id: string; onClose: () => void }) {
  return (
    <div id={id} className="challan-popover" role="region" aria-label="Keyboard shortcuts">
      <div className="challan-popover-header">
        <strong>Keyboard shortcuts</strong>
        <button type="button" className="icon-button" aria-label="Close shortcuts" onClick={onClose}><span aria-hidden="true">×</span></button>
      </div>
      <dl className="challan-shortcuts">
        {SHORTCUTS.map(([key, what]) => (
          <div key={key}><dt><kbd>{key}</kbd></dt><dd>{what}</dd></div>
        ))}
      </dl>
    </div>
  );
}

/**
 * One filter's view of the register (re-mounted when the filter changes): pages, selection (kept across
 * pages), the keyboard's row, bulk actions, copy and export. Rows that arrive live are highlighted.
 */
export function Register({ ref, query, customers, zone, phone, canWrite, canDelete, update, onOpen, onDone, onNew }: {
  ref: Ref<RegisterHandle>;
  query: ChallanQuery;
  customers: Customer[] | undefined;
  zone: string;
  phone: boolean;
  canWrite: boolean;
  canDelete: boolean;
  update: (changes: Record<string, string | null>) => void;
  onOpen: (challan: Challan) => void;
  onDone: (done: Done) => void;
  onNew: () => void;
}) {
  const pager = useCursorPager();
  const list = useChallans(query, pager.cursor);
  const items = list.data?.items ?? [];
  const [selected, setSelected] = useState<Map<string, Challan>>(new Map());
  const [active, setActive] = useState(-1);
  const anchor = useRef<number | null>(null);
  const [copyFallback, setCopyFallback] = useState<string | null>(null);

  // Rows not in the first answer arrived while the register was open (someone else made them): highlighted.
  const seen = useRef<Set<string> | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  useEffect(() => {
    if (!list.data || list.isPlaceholderData) return;
    const ids = list.data.items.map((c) => c.id);
    if (seen.current === null) { seen.current = new Set(ids); return; }
    const arrived = ids.filter((id) => !seen.current!.has(id));
    ids.forEach((id) => seen.current!.add(id));
    if (arrived.length > 0) setFresh(new Set(arrived));
  }, [list.data, list.isPlaceholderData]);

  // The selection in register order; rows on this page in their live version (an invoice marked elsewhere).
  const chosen = (): Challan[] => {
    const onPage = items.filter((c) => selected.has(c.id));
    const ids = new Set(onPage.map((c) => c.id));
    return [...onPage, ...[...selected.values()].filter((c) => !ids.has(c.id))];
  };

  const onSelect = (index: number, event: MouseEvent | KeyboardEvent) => {
    const challan = items[index];
    if (!challan) return;
    const on = !selected.has(challan.id);
    const from = event.shiftKey && anchor.current !== null ? Math.min(anchor.current, index) : index;
    const to = event.shiftKey && anchor.current !== null ? Math.max(anchor.current, index) : index;
    setSelected((current) => {
      const next = new Map(current);
      for (const c of items.slice(from, to + 1)) {
        if (on) next.set(c.id, c); else next.delete(c.id);
      }
      return next;
    });
    anchor.current = index;
    setActive(index);
  };

  const copy = async (rows: Challan[]) => {
    if (rows.length === 0) return;
    try {
      const text = await clipboardTextFor(rows.map((c) => c.id));
      try {
        await navigator.clipboard.writeText(text);
        onDone({ message: `${rows.length} row${rows.length === 1 ? '' : 's'} copied.` });
      } catch {
        // No clipboard permission (or not a secure page): show the text to copy by hand.
        setCopyFallback(text);
      }
    } catch (error) {
      onDone({ message: error instanceof Error ? error.message : 'The rows could not be copied.' });
    }
  };

  const exportSelected = async () => {
    try {
      await downloadSelectedCsv(chosen().map((c) => c.id));
    } catch (error) {
      onDone({ message: error instanceof Error ? error.message : 'The export failed.' });
    }
  };

  useImperativeHandle(ref, () => ({
    onKey: (e: KeyboardEvent) => {
      const move = (to: number) => {
        e.preventDefault();
        const index = Math.max(0, Math.min(items.length - 1, to));
        setActive(index);
        document.querySelector(`[data-id="${items[index]?.id}"]`)?.scrollIntoView({ block: 'nearest' });
      };
      if (e.key === 'j') move(active + 1);
      else if (e.key === 'k') move(active < 0 ? 0 : active - 1);
      else if (e.key === 'x' && active >= 0) onSelect(active, e);
      else if (e.key === 'e' && items[active]) { e.preventDefault(); onOpen(items[active]); }
      else if (e.key === 'c') {
        const rows = chosen();
        void copy(rows.length > 0 ? rows : items[active] ? [items[active]] : []);
      }
    },
  }));

  const onSort = (key: SortKey) => {
    const current = query.sort ?? 'challanDate';
    const order = key === current ? ((query.order ?? 'desc') === 'desc' ? 'asc' : 'desc') : ASCENDING_FIRST.includes(key) ? 'asc' : 'desc';
    update({ sort: key === 'challanDate' && order === 'desc' ? null : key, order: key === 'challanDate' && order === 'desc' ? null : order });
  };

  const firstRow = (pager.page - 1) * PAGE_SIZE + 1;
  const shown: [number, number] | null = list.data ? [firstRow, firstRow + items.length - 1] : null;
  const picked = chosen();

  let body;
  if (list.isPending) body = <LoadingState label="Loading challans…" />;
  else if (list.isError) body = <ErrorState title="Challans could not be loaded" error={list.error} onRetry={() => void list.refetch()} />;
  else if (items.length === 0) {
    body = chipsOf(query, customers).length > 0
      ? <EmptyState title="No challans match"><p>Remove a filter above, or search for something else.</p></EmptyState>
      : (
        <EmptyState title="No challans yet">
          <p>Challans appear here as they are made, by you or your colleagues.</p>
          {canWrite && <button type="button" className="button button-primary" onClick={onNew}>New challan</button>}
        </EmptyState>
      );
  } else {
    const rowProps = { items, selected: new Set(selected.keys()), active, fresh, zone, onSelect, onOpen };
    body = phone
      ? <ChallanCards {...rowProps} canWrite={canWrite} onUploaded={(message) => onDone({ message })} />
      : <ChallanTable {...rowProps} query={query} onSort={onSort} onSelectAll={(on) => setSelected((current) => {
        const next = new Map(current);
        for (const c of items) { if (on) next.set(c.id, c); else next.delete(c.id); }
        return next;
      })} />;
  }

  return (
    <>
      <div className="challan-summary">
        <FilterChips query={query} customers={customers} update={update} shown={shown} total={list.data?.total ?? null} totalExact={list.data?.totalExact ?? true} />
        <details className="challan-export">
          <summary className="button button-small">Export CSV</summary>
          <div className="challan-popover challan-export-menu">
            <a className="button button-small button-quiet" href={csvHref(query)} download>All {chipsOf(query, customers).length > 0 ? 'filtered ' : ''}challans{list.data ? ` (${list.data.totalExact ? formatNumber(list.data.total) : `${formatNumber(list.data.total)}+`})` : ''}</a>
            <button type="button" className="button button-small button-quiet" disabled={picked.length === 0} onClick={() => void exportSelected()}>Selected ({picked.length})</button>
          </div>
        </details>
      </div>
      {picked.length > 0 && (
        <BulkBar chosen={picked} canWrite={canWrite} canDelete={canDelete}
          onDone={(done) => { setSelected(new Map()); onDone(done); }}
          onCopy={() => void copy(picked)} onExport={() => void exportSelected()} onClear={() => setSelected(new Map())} />
      )}
      <div aria-busy={list.isPlaceholderData || undefined} className={list.isPlaceholderData ? 'challan-busy' : undefined}>{body}</div>
      <Pager label="Challan pages" page={pager.page} nextCursor={list.data?.nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={list.isPlaceholderData} />
      {copyFallback !== null && (
        <Dialog title="Copy these rows" onClose={() => setCopyFallback(null)}>
          <p className="small muted">The browser did not let Vigil use the clipboard. Select the text and copy it (Ctrl+C).</p>
          <textarea className="challan-copy-text" readOnly rows={10} value={copyFallback} aria-label="Rows to copy" ref={(el) => el?.select()} />
          <div className="dialog-actions"><button type="button" className="button" onClick={() => setCopyFallback(null)}>Close</button></div>
        </Dialog>
      )}
    </>
  );
}
