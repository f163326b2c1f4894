import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError, api } from '../../api/client';
import {
  MAINTENANCE_TYPE_LABELS, maintenanceKeys, saveMaintenance, uploadAttachment,
  type MaintenanceInput, type MaintenanceRecord, type MaintenanceType,
} from '../../api/maintenance';
import { Dialog } from '../Dialog';
import { TextField } from '../TextField';

const FIELDS = ['type', 'performedAt', 'performedBy', 'description', 'cost', 'currency', 'parts', 'notes', 'nextDueOn'];
const ACCEPTED_FILES = 'image/jpeg,image/png,image/webp,application/pdf';

/** "2026-11-23T09:05" in the browser's zone, for a datetime-local input. */
function localInputValue(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A textarea or select with the same label and error wiring as TextField. */
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

interface Saved {
  record: MaintenanceRecord;
  failedUploads: string[];
}

/**
 * Add or edit a maintenance record: the server's complaints appear next to their fields; files chosen
 * here are attached once the record is saved, and existing attachments can be removed.
 */
export function MaintenanceDialog({ deviceId, record, onClose, onSaved }: {
  deviceId: string;
  record: MaintenanceRecord | null;
  onClose: () => void;
  onSaved: (record: MaintenanceRecord, created: boolean) => void;
}) {
  const queryClient = useQueryClient();
  const [current, setCurrent] = useState(record);
  const [type, setType] = useState<MaintenanceType>(record?.type ?? 'preventive');
  const [performedAt, setPerformedAt] = useState(localInputValue(record?.performedAt ?? new Date().toISOString()));
  const [performedBy, setPerformedBy] = useState(record?.performedBy ?? '');
  const [description, setDescription] = useState(record?.description ?? '');
  const [cost, setCost] = useState(record?.cost?.toString() ?? '');
  const [currency, setCurrency] = useState(record?.currency ?? '');
  const [parts, setParts] = useState(record?.parts.join('\n') ?? '');
  const [notes, setNotes] = useState(record?.notes ?? '');
  const [nextDueOn, setNextDueOn] = useState(record?.nextDueOn ?? '');
  const [files, setFiles] = useState<File[]>([]);
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [uploadProblem, setUploadProblem] = useState<string | null>(null);

  const save = useMutation({
    mutationFn: async (input: MaintenanceInput): Promise<Saved> => {
      const saved = await saveMaintenance(deviceId, current, input);
      const failedUploads: string[] = [];
      for (const file of files) {
        await uploadAttachment(saved.id, file).catch((error: unknown) => failedUploads.push(`${file.name}: ${error instanceof Error ? error.message : 'failed'}`));
      }
      return { record: failedUploads.length < files.length ? await api<MaintenanceRecord>(`/maintenance/records/${saved.id}`) : saved, failedUploads };
    },
    onSuccess: async ({ record: saved, failedUploads }) => {
      await queryClient.invalidateQueries({ queryKey: maintenanceKeys.all });
      setFiles([]);
      if (failedUploads.length === 0) return onSaved(saved, !record);
      // The record is saved; stay open on it so the files can be fixed and sent again.
      setCurrent(saved);
      setUploadProblem(`Saved, but some files were not attached. ${failedUploads.join(' ')}`);
    },
  });

  const removeAttachment = useMutation({
    mutationFn: (attachmentId: string) => api<void>(`/maintenance/attachments/${attachmentId}`, { method: 'DELETE' }),
    onSuccess: async (_result, attachmentId) => {
      setCurrent((r) => r && { ...r, attachments: r.attachments.filter((a) => a.id !== attachmentId) });
      await queryClient.invalidateQueries({ queryKey: maintenanceKeys.all });
    },
  });

  const serverError = save.error instanceof ApiError ? save.error : null;
  const fieldError = (field: string) => localErrors[field] ?? serverError?.fieldMessage(field);
  const otherError = save.error && !(serverError && serverError.details.some((d) => FIELDS.includes(d.field))) ? save.error : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    const costValue = cost.trim() === '' ? null : Number(cost.replace(',', '.'));
    if (!performedBy.trim()) errors.performedBy = 'Enter who did the work.';
    if (!description.trim()) errors.description = 'Describe what was done.';
    if (!performedAt) errors.performedAt = 'Enter when the work was done.';
    if (costValue !== null && !Number.isFinite(costValue)) errors.cost = 'Enter an amount, e.g. 120.50.';
    setLocalErrors(errors);
    setUploadProblem(null);
    if (Object.keys(errors).length > 0) return;
    save.mutate({
      type,
      performedAt: new Date(performedAt).toISOString(),
      performedBy: performedBy.trim(),
      description: description.trim(),
      cost: costValue,
      currency: currency.trim() ? currency.trim().toUpperCase() : null,
      parts: parts.split('\n').map((p) => p.trim()).filter(Boolean),
      notes: notes.trim() || null,
      nextDueOn: nextDueOn || null,
    });
  };

  return (
    <Dialog title={current ? 'Edit maintenance' : 'Log maintenance'} onClose={onClose} wide>
      <form onSubmit={submit} noValidate>
        <div className="field-row">
          <Field id="maintenance-type" label="Type" error={fieldError('type')}>
            {(aria) => (
              <select {...aria} value={type} onChange={(e) => setType(e.target.value as MaintenanceType)}>
                {Object.entries(MAINTENANCE_TYPE_LABELS).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
              </select>
            )}
          </Field>
          <TextField id="maintenance-performedAt" label="Performed" type="datetime-local" value={performedAt} onChange={(e) => setPerformedAt(e.target.value)} error={fieldError('performedAt')} required />
        </div>
        <TextField id="maintenance-performedBy" label="Technician" value={performedBy} onChange={(e) => setPerformedBy(e.target.value)} error={fieldError('performedBy')} required autoComplete="name" />
        <Field id="maintenance-description" label="What was done" error={fieldError('description')}>
          {(aria) => <textarea {...aria} rows={3} value={description} onChange={(e) => setDescription(e.target.value)} required />}
        </Field>
        <div className="field-row">
          <TextField id="maintenance-cost" label="Cost" inputMode="decimal" placeholder="Optional" value={cost} onChange={(e) => setCost(e.target.value)} error={fieldError('cost')} />
          <TextField id="maintenance-currency" label="Currency" placeholder="e.g. EUR" maxLength={3} value={currency} onChange={(e) => setCurrency(e.target.value)} error={fieldError('currency')} />
        </div>
        <Field id="maintenance-parts" label="Parts used (one per line)" error={fieldError('parts')}>
          {(aria) => <textarea {...aria} rows={2} value={parts} onChange={(e) => setParts(e.target.value)} />}
        </Field>
        <Field id="maintenance-notes" label="Notes" error={fieldError('notes')}>
          {(aria) => <textarea {...aria} rows={2} value={notes} onChange={(e) => setNotes(e.target.value)} />}
        </Field>
        <TextField id="maintenance-nextDueOn" label="Next maintenance due" type="date" value={nextDueOn} onChange={(e) => setNextDueOn(e.target.value)} error={fieldError('nextDueOn')} />

        {current && current.attachments.length > 0 && (
          <div className="field">
            <span className="field-label">Attachments</span>
            <ul className="attachment-list">
              {current.attachments.map((a) => (
                <li key={a.id}>
                  <a href={a.url} target="_blank" rel="noopener noreferrer">{a.fileName}</a>
                  <button type="button" className="button button-small button-danger" aria-label={`Remove ${a.fileName}`} disabled={removeAttachment.isPending} onClick={() => removeAttachment.mutate(a.id)}>
                    Remove
                  </button>
                </li>
              ))}
            </ul>
            {removeAttachment.error instanceof Error && <p className="form-error" role="alert">{removeAttachment.error.message}</p>}
          </div>
        )}
        <div className="field">
          <label htmlFor="maintenance-files">Add photos or PDFs</label>
          <input id="maintenance-files" type="file" accept={ACCEPTED_FILES} multiple onChange={(e) => setFiles([...(e.target.files ?? [])])} aria-describedby="maintenance-files-hint" />
          <span className="muted" id="maintenance-files-hint">JPEG, PNG, WebP or PDF; attached when you save.</span>
        </div>

        {uploadProblem && <p className="form-error" role="alert">{uploadProblem}</p>}
        {otherError && <p className="form-error" role="alert">{otherError.message}</p>}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>{uploadProblem ? 'Close' : 'Cancel'}</button>
          <button type="submit" className="button button-primary" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : current ? 'Save changes' : 'Log maintenance'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
