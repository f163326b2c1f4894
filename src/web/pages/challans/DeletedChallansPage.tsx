import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { challanKeys, useDeletedChallans, type Challan } from '../../api/challans';
import { useOrganization } from '../../api/queries';
import { ConfirmDialog } from '../../components/Dialog';
import { Notice, useNotice } from '../../components/Notice';
import { Pager, useCursorPager } from '../../components/Pager';
import { useSession } from '../../components/session';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { dayDmy } from '../../../shared/challans';
import { may } from '../../lib/access';
import { formatNumber, formatTime } from '../../lib/format';
import { useTitle } from '../../lib/title';
import './challans.css';

/** How long a deleted challan can be restored; after that the hourly purge removes it with its files. */
const RESTORE_DAYS = 30;

function restorableUntil(challan: Challan): Date {
  return new Date(Date.parse(challan.deletedAt!) + RESTORE_DAYS * 86_400_000);
}

/**
 * `/challans/deleted`: the challans admins deleted, the latest first, with who deleted them, when and why,
 * and a way back for 30 days. Their numbers stay taken whatever happens to them. A table on a desk, cards on a phone.
 */
export function DeletedChallansPage() {
  useTitle('Deleted challans');
  const { me } = useSession();
  const organization = useOrganization();
  const zone = organization.data?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const [search, setSearch] = useState('');
  const [q, setQ] = useState('');
  const notice = useNotice();
  const [restoring, setRestoring] = useState<Challan | null>(null);
  if (!may(me, 'challan.delete')) {
    return (
      <div className="page">
        <h1>Deleted challans</h1>
        <p>Only administrators see deleted challans. <Link to="/challans">Back to the register</Link></p>
      </div>
    );
  }
  return (
    <div className="page challan-page">
      <header className="page-header">
        <div>
          <h1>Deleted challans</h1>
          <p className="muted">Deleted challans keep their numbers. Restore one within {RESTORE_DAYS} days; after that it is removed with its files.</p>
        </div>
        <div className="challan-header-actions"><Link className="button" to="/challans">Back to the register</Link></div>
      </header>
      <form className="challan-toolbar" role="search" aria-label="Search deleted challans" onSubmit={(e) => { e.preventDefault(); setQ(search.trim()); }}>
        <label htmlFor="deleted-search" className="visually-hidden">Search</label>
        <input id="deleted-search" type="search" placeholder="Number, customer, goods…" maxLength={200} value={search} onChange={(e) => setSearch(e.target.value)} />
        <button type="submit" className="button">Search</button>
      </form>
      <Notice message={notice.message} />
      <DeletedList key={q} q={q} zone={zone} onRestore={setRestoring} />
      {restoring && <RestoreDialog challan={restoring} onClose={() => setRestoring(null)} onDone={(message) => { setRestoring(null); notice.show(message); }} />}
    </div>
  );
}

function DeletedList({ q, zone, onRestore }: { q: string; zone: string; onRestore: (challan: Challan) => void }) {
  const pager = useCursorPager();
  const list = useDeletedChallans(q, pager.cursor);
  if (list.isPending) return <LoadingState label="Loading deleted challans…" />;
  if (list.isError) return <ErrorState title="Deleted challans could not be loaded" error={list.error} onRetry={() => void list.refetch()} />;
  const items = list.data.items;
  if (items.length === 0) {
    return <EmptyState title={q ? 'No deleted challan matches' : 'No deleted challans'}><p>{q ? 'Search for something else.' : 'Challans deleted from the register are listed here.'}</p></EmptyState>;
  }
  // "Now" is when the list was read: the page stays the same however often it is drawn.
  const now = list.dataUpdatedAt;
  return (
    <>
      <p className="small muted challan-count">{list.data.totalExact ? formatNumber(list.data.total) : `More than ${formatNumber(list.data.total)}`} deleted</p>
      <div className="table-wrap challan-deleted-wrap" role="region" aria-label="Deleted challans" tabIndex={0}>
      <table className="table challan-deleted-table" aria-busy={list.isPlaceholderData || undefined}>
        <thead>
          <tr><th scope="col">Challan No.</th><th scope="col">Date</th><th scope="col">Customer</th><th scope="col">Deleted</th><th scope="col">By</th><th scope="col">Why</th><th scope="col"><span className="visually-hidden">Restore</span></th></tr>
        </thead>
        <tbody>
          {items.map((c) => {
            const until = restorableUntil(c);
            return (
              <tr key={c.id} data-id={c.id}>
                <th scope="row" data-label="Challan No.">{c.number}</th>
                <td data-label="Date">{dayDmy(c.challanDate)}</td>
                <td data-label="Customer" className="break-anywhere">{c.customerName}</td>
                <td data-label="Deleted">{formatTime(c.deletedAt!, zone)}</td>
                <td data-label="By">{c.deletedByName ?? '—'}</td>
                <td data-label="Why" className="break-anywhere">{c.deleteReason ?? <span className="muted">No reason given</span>}</td>
                <td className="challan-deleted-action">
                  {until.getTime() > now
                    ? <button type="button" className="button button-small" onClick={() => onRestore(c)}>Restore {c.number}</button>
                    : <span className="small muted">Past {RESTORE_DAYS} days: being removed</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      </div>
      <Pager label="Deleted challan pages" page={pager.page} nextCursor={list.data.nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={list.isPlaceholderData} />
    </>
  );
}

function RestoreDialog({ challan, onClose, onDone }: { challan: Challan; onClose: () => void; onDone: (message: string) => void }) {
  const queryClient = useQueryClient();
  const restore = useMutation({
    mutationFn: () => api<Challan>(`/challans/${challan.id}/restore`, { method: 'POST' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: challanKeys.all }),
  });
  return (
    <ConfirmDialog title={`Restore challan ${challan.number}?`} confirmLabel="Restore" busy={restore.isPending} error={restore.error} onClose={onClose}
      onConfirm={() => restore.mutate(undefined, { onSuccess: () => onDone(`Challan ${challan.number} restored to the register.`) })}>
      <p>{challan.number} for {challan.customerName} goes back into the register as it was, with its proof of delivery.</p>
    </ConfirmDialog>
  );
}
