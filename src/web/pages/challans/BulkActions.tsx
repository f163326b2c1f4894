import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { challanKeys, type Challan } from '../../api/challans';
import { ConfirmDialog, Dialog } from '../../components/Dialog';
import { TextField } from '../../components/TextField';
import { formErrors } from '../../lib/forms';

/** An action's outcome for the toast, with how to take it back. */
export interface Done {
  message: string;
  undo?: () => Promise<unknown>;
}

type Bulk = 'submitted' | 'invoice' | 'delete';

/**
 * The bar over the register while rows are selected: mark invoices submitted, link them to one invoice,
 * copy, export, and (admins) delete; each asks first and its toast offers an undo.
 */
export function BulkBar({ chosen, canWrite, canDelete, onDone, onCopy, onExport, onClear }: {
  chosen: Challan[];
  canWrite: boolean;
  canDelete: boolean;
  onDone: (done: Done) => void;
  onCopy: () => void;
  onExport: () => void;
  onClear: () => void;
}) {
  const [open, setOpen] = useState<Bulk | null>(null);
  const ids = chosen.map((c) => c.id);
  return (
    <div className="bulk-bar challan-bulk" role="toolbar" aria-label="Selected challans">
      <span className="challan-bulk-count">{chosen.length} selected</span>
      {canWrite && <button type="button" className="button button-small" onClick={() => setOpen('submitted')}>Mark invoice submitted</button>}
      {canWrite && <button type="button" className="button button-small" onClick={() => setOpen('invoice')}>Link to invoice…</button>}
      <button type="button" className="button button-small" onClick={onCopy}>Copy</button>
      <button type="button" className="button button-small" onClick={onExport}>Export CSV</button>
      {canDelete && <button type="button" className="button button-small button-danger" onClick={() => setOpen('delete')}>Delete…</button>}
      <button type="button" className="button button-small button-quiet" onClick={onClear}>Clear selection</button>
      {open === 'submitted' && <MarkSubmittedDialog chosen={chosen} onClose={() => setOpen(null)} onDone={(d) => { setOpen(null); onDone(d); }} />}
      {open === 'invoice' && <InvoiceLinkDialog ids={ids} onClose={() => setOpen(null)} onDone={(d) => { setOpen(null); onDone(d); }} />}
      {open === 'delete' && <DeleteDialog chosen={chosen} onClose={() => setOpen(null)} onDone={(d) => { setOpen(null); onDone(d); }} />}
    </div>
  );
}

function numbers(chosen: Challan[]): string {
  const shown = chosen.slice(0, 12).map((c) => c.number).join(', ');
  return chosen.length > 12 ? `${shown} and ${chosen.length - 12} more` : shown;
}

function useBulk<T, R>(fn: (body: T) => Promise<R>) {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: fn, onSettled: () => queryClient.invalidateQueries({ queryKey: challanKeys.all }) });
}

function setSubmitted(ids: string[], submitted: boolean) {
  return api('/challans/invoices/submitted', { method: 'POST', body: { ids, submitted } });
}

function MarkSubmittedDialog({ chosen, onClose, onDone }: { chosen: Challan[]; onClose: () => void; onDone: (done: Done) => void }) {
  // Only those still pending change, and only those go back to pending on undo.
  const pending = chosen.filter((c) => !c.invoiceSubmitted);
  const mark = useBulk((ids: string[]) => setSubmitted(ids, true));
  const withoutInvoice = pending.filter((c) => !c.invoiceNumber);
  return (
    <ConfirmDialog title="Mark invoices submitted" confirmLabel={`Mark ${pending.length} submitted`} busy={mark.isPending || pending.length === 0} error={mark.error}
      onClose={onClose}
      onConfirm={() => mark.mutate(pending.map((c) => c.id), {
        onSuccess: () => onDone({ message: `${pending.length} invoice${pending.length === 1 ? '' : 's'} marked submitted.`, undo: () => setSubmitted(pending.map((c) => c.id), false) }),
      })}>
      <p>{pending.length === 0 ? 'The selected challans are all submitted already.' : `Mark the invoices of ${numbers(pending)} submitted?`}</p>
      {withoutInvoice.length > 0 && <p className="small muted">{numbers(withoutInvoice)} {withoutInvoice.length === 1 ? 'has' : 'have'} no invoice number yet: link {withoutInvoice.length === 1 ? 'it' : 'them'} to an invoice first.</p>}
    </ConfirmDialog>
  );
}

function InvoiceLinkDialog({ ids, onClose, onDone }: { ids: string[]; onClose: () => void; onDone: (done: Done) => void }) {
  const [invoiceNumber, setInvoiceNumber] = useState('');
  const [invoiceDate, setInvoiceDate] = useState('');
  const link = useBulk((body: { ids: string[]; invoiceNumber: string; invoiceDate: string }) => api('/challans/invoices', { method: 'POST', body }));
  const errors = formErrors(link.error, ['invoiceNumber', 'invoiceDate']);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    link.mutate({ ids, invoiceNumber: invoiceNumber.trim(), invoiceDate }, {
      onSuccess: () => onDone({ message: `${ids.length} challan${ids.length === 1 ? '' : 's'} linked to invoice ${invoiceNumber.trim()}.` }),
    });
  };
  return (
    <Dialog title={`Link ${ids.length} challan${ids.length === 1 ? '' : 's'} to an invoice`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <div className="field-row">
          <TextField id="link-invoice-number" label="Invoice No." maxLength={50} value={invoiceNumber} onChange={(e) => setInvoiceNumber(e.target.value)} error={errors.field('invoiceNumber')} required autoFocus />
          <TextField id="link-invoice-date" label="Invoice date" type="date" value={invoiceDate} onChange={(e) => setInvoiceDate(e.target.value)} error={errors.field('invoiceDate')} required />
        </div>
        <p className="small muted">The invoice is set pending; mark it submitted once it has gone out.</p>
        {errors.other && <p className="form-error" role="alert">{errors.other}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button-primary" disabled={link.isPending}>{link.isPending ? 'Linking…' : 'Link to invoice'}</button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteDialog({ chosen, onClose, onDone }: { chosen: Challan[]; onClose: () => void; onDone: (done: Done) => void }) {
  const [reason, setReason] = useState('');
  const remove = useBulk((ids: string[]) => api<{ deleted: number; failed: number; notFound: string[] }>('/challans/bulk-delete', { method: 'POST', body: { ids, reason: reason.trim() || undefined } }));
  const confirm = () => remove.mutate(chosen.map((c) => c.id), {
    onSuccess: (result) => {
      const gone = chosen.filter((c) => !result.notFound.includes(c.id)).map((c) => c.id);
      onDone({
        message: `${result.deleted} deleted${result.failed ? `, ${result.failed} not found (already deleted?)` : ''}.`,
        undo: () => Promise.all(gone.map((id) => api(`/challans/${id}/restore`, { method: 'POST' }))),
      });
    },
  });
  return (
    <ConfirmDialog title={`Delete ${chosen.length} challan${chosen.length === 1 ? '' : 's'}?`} confirmLabel="Delete" busy={remove.isPending} error={remove.error} onClose={onClose} onConfirm={confirm}>
      <p>{numbers(chosen)} will leave the register. Their numbers stay taken; an administrator can restore them for 30 days from Deleted challans.</p>
      <TextField id="delete-reason" label="Why (optional, shown with the deleted challans)" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
    </ConfirmDialog>
  );
}
