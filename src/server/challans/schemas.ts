import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../core/http/schemas.js';
import { MAX_EXECUTIVES } from './rules.js';
import { SORT_COLUMNS } from './store.js';

/** The TypeBox schemas of the challan routes (validation, serialization and the OpenAPI document). */
export const Day = Type.String({ format: 'date', description: 'A calendar day, YYYY-MM-DD' });

const PodSummary = Type.Object({
  fileId: Uuid,
  version: Type.Integer(),
  fileName: Type.String(),
  contentType: Type.String(),
  sizeBytes: Type.Integer(),
  url: Type.String(),
  previewUrl: Nullable(Type.String({ description: "A small JPEG of an image or of a PDF's first page; null for Word documents and PDFs that could not be drawn" })),
});

export const Challan = Type.Object({
  id: Uuid,
  number: Type.String({ description: 'YYMM of the challan date and a 5-digit sequence of that month; never changes, never reused' }),
  challanDate: Day,
  siteId: Nullable(Uuid),
  customerId: Uuid,
  customerName: Type.String({ description: "The customer's name when the challan was made" }),
  description: Type.String(),
  deliveryExecutives: Type.Array(Type.String()),
  invoiceNumber: Nullable(Type.String()),
  invoiceDate: Nullable(Day),
  invoiceSubmitted: Type.Boolean(),
  invoiceSubmittedAt: Nullable(Timestamp),
  pod: Nullable(PodSummary),
  podUploadedAt: Nullable(Timestamp),
  createdBy: Nullable(Uuid),
  createdByName: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedBy: Nullable(Uuid),
  updatedByName: Nullable(Type.String()),
  updatedAt: Timestamp,
  deletedAt: Nullable(Timestamp),
  deletedBy: Nullable(Uuid),
  deletedByName: Nullable(Type.String()),
  deleteReason: Nullable(Type.String({ description: 'Why it was deleted, as the admin who deleted it said' })),
});

export const PodFile = Type.Object({
  id: Uuid,
  challanId: Uuid,
  version: Type.Integer(),
  current: Type.Boolean(),
  fileName: Type.String(),
  contentType: Type.String(),
  sizeBytes: Type.Integer(),
  uploadedAt: Timestamp,
  uploadedBy: Nullable(Uuid),
  uploadedByName: Nullable(Type.String()),
  url: Type.String(),
  previewUrl: Nullable(Type.String()),
});

// Fields the server sets (number, POD time, timestamps, authors) are dropped from bodies, not refused.
const closed = { additionalProperties: false } as const;

const editable = {
  challanDate: Type.Optional(Type.String({ format: 'date', description: "Default: today in the organization's time zone; not in the future" })),
  customerId: Uuid,
  description: Type.String({ minLength: 1, maxLength: 5000, description: 'The goods delivered' }),
  deliveryExecutives: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: MAX_EXECUTIVES })),
  invoiceNumber: Type.Optional(Nullable(Type.String({ maxLength: 50 }))),
  invoiceDate: Type.Optional(Nullable(Type.String({ format: 'date', description: 'Not before the challan date, not in the future' }))),
  invoiceSubmitted: Type.Optional(Type.Boolean()),
  siteId: Type.Optional(Nullable(Uuid)),
};
export const ChallanCreate = Type.Object(editable, closed);
export const ChallanPatch = Type.Partial(Type.Object(editable), closed);

const SortKey = Type.Union(Object.keys(SORT_COLUMNS).map((key) => Type.Literal(key)));

export const ChallanFilters = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200, description: 'Search (case-insensitive) in number, customer, description, executives and invoice number' })),
  from: Type.Optional(Day),
  to: Type.Optional(Day),
  customerId: Type.Optional(Uuid),
  siteId: Type.Optional(Uuid),
  invoice: Type.Optional(Type.Union([Type.Literal('submitted'), Type.Literal('pending')])),
  invoiceFrom: Type.Optional(Day),
  invoiceTo: Type.Optional(Day),
  pod: Type.Optional(Type.Union([Type.Literal('received'), Type.Literal('missing')])),
  podFrom: Type.Optional(Type.String({ format: 'date', description: "POD uploaded on or after this day (organization's time zone)" })),
  podTo: Type.Optional(Type.String({ format: 'date', description: "POD uploaded on or before this day (organization's time zone)" })),
  deleted: Type.Optional(Type.Boolean({ description: 'Admins: the deleted challans instead (restorable for 30 days)' })),
  outstandingDays: Type.Optional(Type.Integer({
    minimum: 1, maximum: 3650, description: 'POD outstanding: challans dated this many days ago or earlier without a POD file or without a submitted invoice',
  })),
  sort: Type.Optional(SortKey),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
});

export const ChallanPage = Type.Object({
  items: Type.Array(Challan),
  nextCursor: Nullable(Type.String()),
  total: Type.Integer({ description: 'How many match; exact when totalExact, otherwise a lower bound (counting stops at 10,000, at 1,000 for a search)' }),
  totalExact: Type.Boolean(),
});

export const Ids = Type.Array(Uuid, { minItems: 1, maxItems: 500, uniqueItems: true });
export const IdsBody = Type.Object({ ids: Ids });
const DeleteReason = Type.String({ maxLength: 500, description: 'Why (shown with the deleted challans)' });
export const DeleteBody = Type.Object({ ids: Ids, reason: Type.Optional(DeleteReason) });
export const DeleteQuery = Type.Object({ reason: Type.Optional(DeleteReason) });
export const InvoiceLink = Type.Object({
  ids: Ids,
  invoiceNumber: Type.String({ minLength: 1, maxLength: 50 }),
  invoiceDate: Type.String({ format: 'date', description: 'Not before any of the challans, not in the future' }),
});
export const InvoiceSubmitted = Type.Object({ ids: Ids, submitted: Type.Optional(Type.Boolean({ default: true })) });
export const BulkDeleteAnswer = Type.Object({
  deleted: Type.Integer(),
  failed: Type.Integer(),
  notFound: Type.Array(Uuid, { description: 'Ids that are not challans of yours (or already deleted)' }),
});

export const Customer = Type.Object({
  id: Uuid,
  name: Type.String(),
  tag: Type.String(),
  address: Nullable(Type.String()),
  contact: Nullable(Type.String()),
  active: Type.Boolean(),
  emailDomains: Type.Array(Type.String(), { description: "Where the customer's own people sign in from: client invitations must go to one of them" }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
const customerFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  tag: Type.String({ minLength: 1, maxLength: 50, description: 'Short name, unique in the organization' }),
  address: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  contact: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  active: Type.Optional(Type.Boolean()),
  emailDomains: Type.Optional(Type.Array(Type.String({ maxLength: 253 }), { maxItems: 20, uniqueItems: true })),
};
export const CustomerCreate = Type.Object(customerFields, closed);
export const CustomerPatch = Type.Partial(Type.Object(customerFields), { ...closed, minProperties: 1 });

/** File answers in the OpenAPI document (the body is streamed or sent as bytes, never serialized). */
export const csvFile = { description: 'CSV, every field quoted', content: { 'text/csv': { schema: Type.Unsafe<Readable>({ type: 'string' }) } } };
export const textFile = { description: 'Plain text', content: { 'text/plain': { schema: Type.String() } } };
export const storedFile = {
  description: 'The file (PDF, JPEG, DOC or DOCX); with S3 storage a 302 to a short-lived signed URL instead',
  content: { 'application/octet-stream': { schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }) } },
};
