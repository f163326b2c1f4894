import { safeCsvText } from '../core/csv.js';
import type { PodFileRow } from './pod-store.js';
import type { ChallanRow, ExportRow } from './store.js';

/** The API shapes of challans and POD files (shared by JSON, CSV and bus messages). */
export function presentChallan(c: ChallanRow) {
  return {
    id: c.id,
    number: c.number,
    challanDate: c.challan_date,
    siteId: c.site_id,
    customerId: c.customer_id,
    customerName: c.customer_name,
    description: c.description,
    deliveryExecutives: c.delivery_executives,
    invoiceNumber: c.invoice_number,
    invoiceDate: c.invoice_date,
    invoiceSubmitted: c.invoice_submitted,
    invoiceSubmittedAt: c.invoice_submitted_at?.toISOString() ?? null,
    pod: c.pod_file_id === null ? null : {
      fileId: c.pod_file_id,
      version: c.pod_version!,
      fileName: c.pod_file_name!,
      contentType: c.pod_content_type!,
      sizeBytes: c.pod_size_bytes!,
      url: `/api/v1/challans/pod-files/${c.pod_file_id}`,
      previewUrl: c.pod_preview_key ? `/api/v1/challans/pod-files/${c.pod_file_id}/preview` : null,
    },
    podUploadedAt: c.pod_uploaded_at?.toISOString() ?? null,
    createdBy: c.created_by,
    createdByName: c.created_by_name,
    createdAt: c.created_at.toISOString(),
    updatedBy: c.updated_by,
    updatedByName: c.updated_by_name,
    updatedAt: c.updated_at.toISOString(),
    deletedAt: c.deleted_at?.toISOString() ?? null,
    deletedBy: c.deleted_by,
    deletedByName: c.deleted_by_name,
    deleteReason: c.delete_reason,
  };
}
export type Challan = ReturnType<typeof presentChallan>;

/**
 * What a client member (a customer's own user) reads of a challan: everything but who on the staff made,
 * changed or deleted it. Staff read it whole.
 */
export function forReader<T extends { createdBy: string | null } | { uploadedBy: string | null }>(scope: { customerId?: string | null }, item: T): T {
  if (!scope.customerId) return item;
  if ('uploadedBy' in item) return { ...item, uploadedBy: null, uploadedByName: null };
  return { ...item, createdBy: null, createdByName: null, updatedBy: null, updatedByName: null, deletedBy: null, deletedByName: null, deleteReason: null };
}

export function presentPodFile(p: PodFileRow) {
  return {
    id: p.id,
    challanId: p.challan_id,
    version: p.version,
    current: p.id === p.current_file_id,
    fileName: p.file_name,
    contentType: p.content_type,
    sizeBytes: p.size_bytes,
    uploadedAt: p.uploaded_at.toISOString(),
    uploadedBy: p.uploaded_by,
    uploadedByName: p.uploaded_by_name,
    url: `/api/v1/challans/pod-files/${p.id}`,
    previewUrl: p.preview_key ? `/api/v1/challans/pod-files/${p.id}/preview` : null,
  };
}

/** The fields whose value differs, as `{ field: { from, to } }`: what an audit entry says changed. */
export function changesOf<T extends object>(before: T, after: T): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after) as (keyof T & string)[]) {
    const from = before[key] instanceof Date ? (before[key] as Date).toISOString() : before[key];
    const to = after[key] instanceof Date ? (after[key] as Date).toISOString() : after[key];
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[key] = { from, to };
  }
  return changes;
}

/** The register's columns in a CSV file (no internal ids); days as dd-mm-yyyy, times in the organization's zone. */
const CHALLAN_CSV_COLUMNS = [
  'Challan No.', 'Date', 'Customer', 'Description', 'Delivery Executives', 'Invoice No.', 'Invoice Date', 'Invoice Submission',
  'POD File', 'POD Uploaded', 'Created', 'Created By', 'Updated', 'Updated By',
];

/** Every field in quotes, empty ones too (tools that read these files expect it), neutralised against formulas. */
const quoted = (value: string) => `"${safeCsvText(value).replace(/"/g, '""')}"`;

export const CHALLAN_CSV_HEADER = `${CHALLAN_CSV_COLUMNS.map(quoted).join(',')}\n`;

/** One CSV line of a challan; a client member (`staff` false) does not see who on the staff made or changed it. */
export function challanCsvLine(c: ExportRow, staff: boolean): string {
  return `${[
    c.number, c.date, c.customer_name, c.description, c.executives, c.invoice, c.invoice_date, c.invoice_submitted ? 'Submitted' : 'Pending',
    c.pod_file, c.pod_at, c.created, staff ? c.created_by : '', c.updated, staff ? c.updated_by : '',
  ].map(quoted).join(',')}\n`;
}
