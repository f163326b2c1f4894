import type { AttachmentRow, DueRow, RecordRow } from './store.js';

/** The API shapes of maintenance records, attachments and due entries (shared by JSON and CSV). */
export function presentAttachment(a: AttachmentRow) {
  return {
    id: a.id,
    fileName: a.file_name,
    contentType: a.content_type,
    sizeBytes: a.size_bytes,
    createdAt: a.created_at.toISOString(),
    url: `/api/v1/maintenance/attachments/${a.id}`,
  };
}

export function presentRecord(r: RecordRow, attachments: AttachmentRow[]) {
  return {
    id: r.id,
    deviceId: r.device_id,
    deviceName: r.device_name,
    siteId: r.site_id,
    type: r.type,
    performedAt: r.performed_at.toISOString(),
    performedBy: r.performed_by,
    description: r.description,
    cost: r.cost,
    currency: r.currency,
    parts: r.parts,
    notes: r.notes,
    nextDueOn: r.next_due_on,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    attachments: attachments.filter((a) => a.record_id === r.id).map(presentAttachment),
  };
}

export type MaintenanceRecord = ReturnType<typeof presentRecord>;

export function presentDue(r: DueRow) {
  return {
    recordId: r.id,
    deviceId: r.device_id,
    deviceName: r.device_name,
    serial: r.serial,
    siteId: r.site_id,
    siteName: r.site_name,
    status: r.days_until_due < 0 ? ('overdue' as const) : ('due_soon' as const),
    nextDueOn: r.next_due_on ?? '',
    daysUntilDue: r.days_until_due,
    lastType: r.type,
    lastPerformedAt: r.performed_at.toISOString(),
    lastPerformedBy: r.performed_by,
  };
}

export const RECORD_CSV_COLUMNS = [
  'id', 'device', 'device_id', 'site_id', 'type', 'performed_at', 'performed_by', 'description', 'cost', 'currency', 'parts', 'notes',
  'next_due_on', 'attachments',
];

export function recordCsvRow(r: MaintenanceRecord) {
  return [
    r.id, r.deviceName, r.deviceId, r.siteId, r.type, r.performedAt, r.performedBy, r.description, r.cost, r.currency, r.parts.join('; '),
    r.notes, r.nextDueOn, r.attachments.length,
  ];
}

export const DUE_CSV_COLUMNS = [
  'device', 'device_id', 'serial', 'site', 'status', 'next_due_on', 'days_until_due', 'last_type', 'last_performed_at', 'last_performed_by', 'record_id',
];

export function dueCsvRow(d: ReturnType<typeof presentDue>) {
  return [d.deviceName, d.deviceId, d.serial, d.siteName, d.status, d.nextDueOn, d.daysUntilDue, d.lastType, d.lastPerformedAt, d.lastPerformedBy, d.recordId];
}
