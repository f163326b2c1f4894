import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { challanKeys, saveCustomer, useCustomerPage, type Customer } from '../../api/challans';
import { ConfirmDialog, Dialog } from '../../components/Dialog';
import { Notice, useNotice } from '../../components/Notice';
import { Pager, useCursorPager } from '../../components/Pager';
import { useSession } from '../../components/session';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { TextField } from '../../components/TextField';
import { may } from '../../lib/access';
import { formErrors } from '../../lib/forms';
import { useTitle } from '../../lib/title';
import './challans.css';

/** `/challans/customers`: the customers challans are made for; managers and up keep the list. */
export function CustomersPage() {
  useTitle('Customers');
  const { me } = useSession();
  const canEdit = may(me, 'customer.write');
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [editing, setEditing] = useState<Customer | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Customer | null>(null);
  const notice = useNotice();
  const pause = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(pause.current), []);

  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs"><Link to="/challans">Challans</Link> › Customers</nav>
      <header className="page-header">
        <div>
          <h1>Customers</h1>
          <p className="muted">Picked when a challan is made; a challan keeps the name it was made with.</p>
        </div>
        {canEdit && <button type="button" className="button button-primary" onClick={() => setEditing('new')}>New customer</button>}
      </header>
      <Notice message={notice.message} />
      <form className="filters" role="search" aria-label="Search customers" onSubmit={(e) => { e.preventDefault(); setQuery(search.trim()); }}>
        <div className="field">
          <label htmlFor="customer-search">Search</label>
          <input id="customer-search" type="search" placeholder="Name or tag" maxLength={200} value={search}
            onChange={(e) => { setSearch(e.target.value); clearTimeout(pause.current); pause.current = setTimeout(() => setQuery(e.target.value.trim()), 250); }} />
        </div>
      </form>
      <CustomerTable key={query} q={query} canEdit={canEdit} onEdit={setEditing} onDelete={setDeleting} />
      {editing && (
        <CustomerDialog customer={editing === 'new' ? null : editing} onClose={() => setEditing(null)}
          onSaved={(saved, created) => { setEditing(null); notice.show(`Customer “${saved.name}” ${created ? 'added' : 'saved'}.`); }} />
      )}
      {deleting && <DeleteCustomer customer={deleting} onClose={() => setDeleting(null)} onDone={() => { notice.show(`Customer “${deleting.name}” deleted.`); setDeleting(null); }} />}
    </div>
  );
}

function CustomerTable({ q, canEdit, onEdit, onDelete }: { q: string; canEdit: boolean; onEdit: (c: Customer) => void; onDelete: (c: Customer) => void }) {
  const pager = useCursorPager();
  const list = useCustomerPage(q, pager.cursor);
  if (list.isPending) return <LoadingState label="Loading customers…" />;
  if (list.isError) return <ErrorState title="Customers could not be loaded" error={list.error} onRetry={() => void list.refetch()} />;
  if (list.data.items.length === 0) return <EmptyState title={q ? 'No customer matches' : 'No customers yet'}>{!q && canEdit && <p>Add the customers you deliver to; challans pick them from this list.</p>}</EmptyState>;
  return (
    <>
      <div className="table-wrap" role="region" aria-label="Customers" tabIndex={0}>
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th><th scope="col">Tag</th><th scope="col" className="hide-narrow">Address</th><th scope="col" className="hide-narrow">Contact</th><th scope="col">Status</th>
              {canEdit && <th scope="col"><span className="visually-hidden">Actions</span></th>}
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((c) => (
              <tr key={c.id}>
                <td>{c.name}</td>
                <td className="mono">{c.tag}</td>
                <td className="hide-narrow small">{c.address}</td>
                <td className="hide-narrow small">{c.contact}</td>
                <td>{c.active ? <span className="challan-badge challan-badge-ok">Active</span> : <span className="challan-badge challan-badge-pending">Inactive</span>}</td>
                {canEdit && (
                  <td>
                    <div className="row-actions">
                      <button type="button" className="button button-small" aria-label={`Edit ${c.name}`} onClick={() => onEdit(c)}>Edit</button>
                      <button type="button" className="button button-small button-danger" aria-label={`Delete ${c.name}`} onClick={() => onDelete(c)}>Delete</button>
                    </div>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager label="Customer pages" page={pager.page} nextCursor={list.data.nextCursor} onNext={pager.next} onPrevious={pager.previous} busy={list.isPlaceholderData} />
    </>
  );
}

const FIELDS = ['name', 'tag', 'address', 'contact', 'active'];

function CustomerDialog({ customer, onClose, onSaved }: { customer: Customer | null; onClose: () => void; onSaved: (c: Customer, created: boolean) => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(customer?.name ?? '');
  const [tag, setTag] = useState(customer?.tag ?? '');
  const [address, setAddress] = useState(customer?.address ?? '');
  const [contact, setContact] = useState(customer?.contact ?? '');
  const [active, setActive] = useState(customer?.active ?? true);
  const save = useMutation({
    mutationFn: () => saveCustomer(customer?.id ?? null, { name: name.trim(), tag: tag.trim(), address: address.trim() || null, contact: contact.trim() || null, active }),
    onSuccess: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: challanKeys.customers });
      onSaved(saved, !customer);
    },
  });
  const errors = formErrors(save.error, FIELDS);
  const submit = (e: FormEvent) => { e.preventDefault(); save.mutate(); };
  return (
    <Dialog title={customer ? `Edit ${customer.name}` : 'New customer'} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <TextField id="customer-name" label="Name" maxLength={200} value={name} onChange={(e) => setName(e.target.value)} error={errors.field('name')} required autoFocus />
        <TextField id="customer-tag" label="Tag" hint="A short name, unique in your organization." maxLength={50} value={tag} onChange={(e) => setTag(e.target.value)} error={errors.field('tag')} required />
        <TextField id="customer-address" label="Address" maxLength={2000} value={address} onChange={(e) => setAddress(e.target.value)} error={errors.field('address')} />
        <TextField id="customer-contact" label="Contact" maxLength={500} value={contact} onChange={(e) => setContact(e.target.value)} error={errors.field('contact')} />
        <div className="field field-checkbox">
          <input id="customer-active" type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} />
          <label htmlFor="customer-active">Active (offered for new challans)</label>
        </div>
        {errors.other && <p className="form-error" role="alert">{errors.other}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button-primary" disabled={save.isPending}>{save.isPending ? 'Saving…' : customer ? 'Save changes' : 'Add customer'}</button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteCustomer({ customer, onClose, onDone }: { customer: Customer; onClose: () => void; onDone: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api(`/customers/${customer.id}`, { method: 'DELETE' }),
    onSuccess: async () => { await queryClient.invalidateQueries({ queryKey: challanKeys.customers }); onDone(); },
  });
  return (
    <ConfirmDialog title={`Delete ${customer.name}?`} confirmLabel="Delete" busy={remove.isPending} error={remove.error} onClose={onClose} onConfirm={() => remove.mutate()}>
      <p>Only a customer no challan names can be deleted; otherwise make it inactive.</p>
    </ConfirmDialog>
  );
}
