import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent, type ReactNode } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { challanKeys, saveChallan, type Challan, type ChallanInput, type Customer } from '../../api/challans';
import { TextField } from '../../components/TextField';
import { formErrors } from '../../lib/forms';
import { formatTime } from '../../lib/format';
import { PodSection } from './PodSection';

const FIELDS = ['challanDate', 'customerId', 'description', 'deliveryExecutives', 'invoiceNumber', 'invoiceDate', 'invoiceSubmitted'] as const;

function Field({ id, label, error, children }: { id: string; label: string; error?: string; children: (aria: Record<string, unknown>) => ReactNode }) {
  const aria = { id, 'aria-invalid': error ? true : undefined, 'aria-describedby': error ? `${id}-error` : undefined };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(aria)}
      {error && <span className="field-error" id={`${id}-error`} role="alert">{error}</span>}
    </div>
  );
}

/** Names typed one by one: Enter or a comma makes a tag, Backspace in an empty box takes the last one back. */
function ExecutiveTags({ id, tags, onChange, draft, onDraft, error }: {
  id: string; tags: string[]; onChange: (tags: string[]) => void; draft: string; onDraft: (text: string) => void; error?: string;
}) {
  const add = () => {
    const name = draft.trim().replace(/,$/, '').trim();
    if (name && !tags.includes(name)) onChange([...tags, name]);
    onDraft('');
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' || e.key === ',') { e.preventDefault(); add(); }
    if (e.key === 'Backspace' && !draft && tags.length > 0) onChange(tags.slice(0, -1));
  };
  return (
    <div className="field">
      <label htmlFor={id}>Delivery executives</label>
      <div className={`tag-input${error ? ' tag-input-invalid' : ''}`}>
        <ul className="tag-list" aria-label="Names added">
          {tags.map((tag) => (
            <li key={tag} className="challan-chip">
              <span>{tag}</span>
              <button type="button" aria-label={`Remove ${tag}`} onClick={() => onChange(tags.filter((t) => t !== tag))}><span aria-hidden="true">×</span></button>
            </li>
          ))}
        </ul>
        <input id={id} value={draft} placeholder={tags.length ? 'Add another' : 'Type a name, then Enter'} maxLength={100}
          aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`} aria-invalid={error ? true : undefined}
          onChange={(e) => onDraft(e.target.value)} onKeyDown={onKeyDown} onBlur={add} />
      </div>
      <span className="field-hint" id={`${id}-hint`}>Who delivered the goods; Enter after each name.</span>
      {error && <span className="field-error" id={`${id}-error`} role="alert">{error}</span>}
    </div>
  );
}

/**
 * The side drawer to make or change a challan, with the server's complaints at their fields; a saved
 * challan shows its proof of delivery (upload, versions, downloads). Escape closes it.
 */
export function ChallanDrawer({ challan, customers, today, zone, canWrite, onClose, onSaved, onUploaded }: {
  challan: Challan | null;
  /** The organization's time zone, for the times shown. */
  zone: string;
  customers: Customer[];
  today: string;
  canWrite: boolean;
  onClose: () => void;
  onSaved: (challan: Challan, created: boolean) => void;
  onUploaded: (message: string, challan: Challan) => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const queryClient = useQueryClient();
  const [challanDate, setChallanDate] = useState(challan?.challanDate ?? today);
  const [customerId, setCustomerId] = useState(challan?.customerId ?? '');
  const [description, setDescription] = useState(challan?.description ?? '');
  const [executives, setExecutives] = useState<string[]>(challan?.deliveryExecutives ?? []);
  const [executiveDraft, setExecutiveDraft] = useState('');
  const [invoiceNumber, setInvoiceNumber] = useState(challan?.invoiceNumber ?? '');
  const [invoiceDate, setInvoiceDate] = useState(challan?.invoiceDate ?? '');
  const [invoiceSubmitted, setInvoiceSubmitted] = useState(challan?.invoiceSubmitted ?? false);
  const [local, setLocal] = useState<Record<string, string>>({});

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);

  const save = useMutation({
    mutationFn: (input: ChallanInput) => saveChallan(challan?.id ?? null, input),
    onSuccess: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: challanKeys.all });
      onSaved(saved, !challan);
    },
  });
  const errors = formErrors(save.error, FIELDS, local);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const problems: Record<string, string> = {};
    if (!customerId) problems.customerId = 'Pick the customer.';
    if (!description.trim()) problems.description = 'Describe what was delivered.';
    setLocal(problems);
    if (Object.keys(problems).length > 0) return;
    const pending = executiveDraft.trim();
    const names = pending && !executives.includes(pending) ? [...executives, pending] : executives;
    save.mutate({
      challanDate: challanDate || undefined,
      customerId,
      description: description.trim(),
      deliveryExecutives: names,
      invoiceNumber: invoiceNumber.trim() || null,
      invoiceDate: invoiceDate || null,
      invoiceSubmitted,
    });
  };

  // A customer made inactive stays shown on its own challans; new ones offer only the active ones.
  const choices = customers.filter((c) => c.active || c.id === challan?.customerId);
  const title = challan ? `Challan ${challan.number}` : 'New challan';
  return (
    <dialog ref={ref} className="challan-drawer" aria-labelledby={titleId} onCancel={(e) => { e.preventDefault(); onClose(); }}>
      <div className="dialog-header">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-button" aria-label="Close" onClick={onClose}><span aria-hidden="true">×</span></button>
      </div>
      {challan && (
        <p className="small muted challan-drawer-meta">
          Made {formatTime(challan.createdAt, zone)}{challan.createdByName ? ` by ${challan.createdByName}` : ''}
          {challan.updatedAt !== challan.createdAt && <> · changed {formatTime(challan.updatedAt, zone)}{challan.updatedByName ? ` by ${challan.updatedByName}` : ''}</>}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <fieldset className="challan-drawer-fields" disabled={!canWrite}>
          <div className="field-row">
            <TextField id="challan-date" label="Date" type="date" max={today} value={challanDate} onChange={(e) => setChallanDate(e.target.value)} error={errors.field('challanDate')} required />
            <Field id="challan-customer" label="Customer" error={errors.field('customerId')}>
              {(aria) => (
                <select {...aria} value={customerId} onChange={(e) => { setCustomerId(e.target.value); setLocal(({ customerId: _, ...rest }) => rest); }} required>
                  <option value="">Pick a customer…</option>
                  {choices.map((c) => <option key={c.id} value={c.id}>{c.name} ({c.tag})</option>)}
                </select>
              )}
            </Field>
          </div>
          <Field id="challan-description" label="Description" error={errors.field('description')}>
            {(aria) => <textarea {...aria} rows={3} maxLength={5000} value={description} onChange={(e) => setDescription(e.target.value)} required />}
          </Field>
          <ExecutiveTags id="challan-executives" tags={executives} onChange={setExecutives} draft={executiveDraft} onDraft={setExecutiveDraft} error={errors.field('deliveryExecutives')} />
          <div className="field-row">
            <TextField id="challan-invoice-number" label="Invoice No." maxLength={50} value={invoiceNumber} onChange={(e) => setInvoiceNumber(e.target.value)} error={errors.field('invoiceNumber')} />
            <TextField id="challan-invoice-date" label="Invoice date" type="date" min={challanDate} max={today} value={invoiceDate} onChange={(e) => setInvoiceDate(e.target.value)} error={errors.field('invoiceDate')} />
          </div>
          <div className="field field-checkbox">
            <input id="challan-invoice-submitted" type="checkbox" checked={invoiceSubmitted} onChange={(e) => setInvoiceSubmitted(e.target.checked)}
              aria-describedby={errors.field('invoiceSubmitted') ? 'challan-invoice-submitted-error' : undefined} />
            <label htmlFor="challan-invoice-submitted">Invoice submitted</label>
          </div>
          {errors.field('invoiceSubmitted') && <p className="field-error" id="challan-invoice-submitted-error" role="alert">{errors.field('invoiceSubmitted')}</p>}
        </fieldset>
        {errors.other && <p className="form-error" role="alert">{errors.other}</p>}
        {canWrite && (
          <div className="dialog-actions">
            <button type="button" className="button" onClick={onClose}>Cancel</button>
            <button type="submit" className="button button-primary" disabled={save.isPending}>
              {save.isPending ? 'Saving…' : challan ? 'Save changes' : 'Create challan'}
            </button>
          </div>
        )}
      </form>
      {challan
        ? <PodSection challan={challan} canWrite={canWrite} onUploaded={onUploaded} zone={zone} />
        : <p className="small muted challan-drawer-note">Once the challan is made, attach the signed copy here or from its card.</p>}
    </dialog>
  );
}
