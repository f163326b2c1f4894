import type { Scope } from '../core/access.js';
import { AppError, invalidFields, notFound, type FieldError } from '../core/http/errors.js';
import type { Actor } from '../audit/service.js';
import type { CustomersService } from './customers.js';
import type { ChallanPodService } from './pod.js';
import type { Challan } from './present.js';
import { MAX_EXECUTIVES, type ChallanInput } from './rules.js';
import type { ChallansService } from './service.js';

/**
 * The DC Tracker API (`/api/deliverychallan/`) as a thin adapter onto the challans service: its field names
 * in and out, its 32-hex ids, delivery executives as one text, the customer named by tag or name, and the
 * POD file in the `proof_of_delivery` field of a multipart create or update.
 */
export interface LegacyChallan {
  id: string;
  challan_number: string;
  date: string;
  customer: string;
  dc_summary: string;
  delivery_executives: string;
  invoice_number: string | null;
  invoice_date: string | null;
  invoice_submission: boolean;
  proof_of_delivery: string | null;
  pod_upload_date: string | null;
  created_at: string;
  updated_at: string;
}

/** The native field each original one maps to, to name the original field in a 400. */
const NATIVE_FIELDS: Record<string, string> = {
  challanDate: 'date', customerId: 'customer', description: 'dc_summary', deliveryExecutives: 'delivery_executives',
  invoiceNumber: 'invoice_number', invoiceDate: 'invoice_date', invoiceSubmitted: 'invoice_submission', file: 'proof_of_delivery',
};

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const HEX_ID = /^[0-9a-f]{32}$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LIST_PAGE = 500;

/** The original's ids were UUIDs written as 32 hex digits; either spelling is accepted, null when neither. */
export function nativeId(id: string): string | null {
  if (UUID.test(id)) return id.toLowerCase();
  if (!HEX_ID.test(id)) return null;
  const h = id.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function legacyChallan(c: Challan, publicUrl: string): LegacyChallan {
  return {
    id: c.id.replace(/-/g, ''),
    challan_number: c.number,
    date: c.challanDate,
    customer: c.customerName,
    dc_summary: c.description,
    delivery_executives: c.deliveryExecutives.join(', '),
    invoice_number: c.invoiceNumber,
    invoice_date: c.invoiceDate,
    invoice_submission: c.invoiceSubmitted,
    proof_of_delivery: c.pod ? `${publicUrl.replace(/\/$/, '')}${c.pod.url}` : null,
    pod_upload_date: c.podUploadedAt,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

/** A 400 from the native service, its fields renamed to the original's. */
export function legacyError(error: unknown): unknown {
  if (!(error instanceof AppError) || !Array.isArray(error.details)) return error;
  const details = error.details.map((d) => ({ field: NATIVE_FIELDS[d.field.replace(/\[\d+\]$/, '')] ?? d.field, message: d.message }));
  return new AppError(error.status, error.code, details.map((d) => `${d.field}: ${d.message}`).join('; ') || error.message, details, error.headers);
}

/** A form sends text: "true", "on" and "1" are true, as Django reads a checkbox. */
function flag(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  return ['true', 'on', '1', 'yes'].includes(String(value).trim().toLowerCase());
}

/** A form's empty field means "none", as Django stores it. */
function optionalText(value: unknown): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  const text = String(value).trim();
  return text === '' ? null : text;
}

export type LegacyFields = Record<string, unknown>;

export class ChallanCompatService {
  constructor(
    private readonly challans: ChallansService,
    private readonly customers: CustomersService,
    private readonly pods: ChallanPodService,
    private readonly publicUrl: string,
  ) {}

  /** Every challan the caller may see, newest date first (the original answered one unpaged array). */
  async list(scope: Scope): Promise<LegacyChallan[]> {
    const all: LegacyChallan[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.challans.list(scope, { limit: LIST_PAGE, cursor });
      all.push(...page.items.map((c) => legacyChallan(c, this.publicUrl)));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  }

  async get(scope: Scope, id: string): Promise<LegacyChallan> {
    return legacyChallan(await this.challans.get(scope, this.idOf(id)), this.publicUrl);
  }

  async create(scope: Scope, fields: LegacyFields, file: { name: string | undefined; data: Buffer } | null, actor: Actor): Promise<LegacyChallan> {
    const input = await this.inputOf(scope, fields, true);
    const created = await this.translated(() => this.challans.create(scope, input as ChallanInput, actor));
    return this.withFile(scope, created, file, actor);
  }

  /** PUT and PATCH alike: the fields sent change, the others stay. */
  async update(scope: Scope, id: string, fields: LegacyFields, file: { name: string | undefined; data: Buffer } | null, actor: Actor): Promise<LegacyChallan> {
    const challanId = this.idOf(id);
    await this.challans.get(scope, challanId);
    const input = await this.inputOf(scope, fields, false);
    const updated = await this.translated(() => this.challans.update(scope, challanId, input, actor));
    return this.withFile(scope, updated, file, actor);
  }

  async remove(scope: Scope, ids: string[], actor: Actor): Promise<{ deleted: string[]; failed: string[] }> {
    const known = ids.map((id) => ({ id, native: nativeId(id) }));
    const result = await this.challans.remove(scope, known.flatMap((k) => (k.native ? [k.native] : [])), actor);
    const deleted = new Set(result.deleted);
    return {
      deleted: known.filter((k) => k.native && deleted.has(k.native)).map((k) => k.id),
      failed: known.filter((k) => !k.native || !deleted.has(k.native)).map((k) => k.id),
    };
  }

  idOf(id: string): string {
    const native = nativeId(id);
    if (!native) throw notFound('challan');
    return native;
  }

  private async withFile(scope: Scope, challan: Challan, file: { name: string | undefined; data: Buffer } | null, actor: Actor): Promise<LegacyChallan> {
    const current = file ? await this.translated(() => this.pods.upload(scope, challan.id, file, actor)) : challan;
    return legacyChallan(current, this.publicUrl);
  }

  private async translated<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw legacyError(error);
    }
  }

  /** The original's fields as native input; read-only and unknown fields are ignored, as the original did. */
  private async inputOf(scope: Scope, fields: LegacyFields, creating: boolean): Promise<Partial<ChallanInput>> {
    const problems: FieldError[] = [];
    const input: Partial<ChallanInput> = {};
    const day = (field: string, value: unknown) => {
      const text = optionalText(value);
      if (text && (!DAY.test(text) || Number.isNaN(Date.parse(text)))) problems.push({ field, message: 'must be a date, YYYY-MM-DD' });
      return text;
    };
    const date = day('date', fields.date);
    if (date) input.challanDate = date;
    const invoiceDate = day('invoice_date', fields.invoice_date);
    if (invoiceDate !== undefined) input.invoiceDate = invoiceDate;

    const customer = optionalText(fields.customer);
    if (customer) {
      const row = await this.customers.findByTagOrName(scope.orgId, customer);
      if (row) input.customerId = row.id;
      else problems.push({ field: 'customer', message: `no active customer has the tag or name "${customer}"; add it to the customer list first` });
    } else if (creating) problems.push({ field: 'customer', message: 'is required' });

    if (fields.dc_summary !== undefined) {
      const summary = String(fields.dc_summary ?? '');
      if (summary.length > 5000) problems.push({ field: 'dc_summary', message: 'must be at most 5000 characters' });
      input.description = summary;
    } else if (creating) problems.push({ field: 'dc_summary', message: 'is required' });

    if (fields.delivery_executives !== undefined) {
      const names = String(fields.delivery_executives ?? '').split(/[,;\n]/).map((n) => n.trim()).filter((n) => n !== '');
      if (names.length > MAX_EXECUTIVES || names.some((n) => n.length > 100)) {
        problems.push({ field: 'delivery_executives', message: `at most ${MAX_EXECUTIVES} names of up to 100 characters, separated by commas` });
      }
      input.deliveryExecutives = names;
    }
    const invoiceNumber = optionalText(fields.invoice_number);
    if (invoiceNumber !== undefined) {
      if (invoiceNumber && invoiceNumber.length > 50) problems.push({ field: 'invoice_number', message: 'must be at most 50 characters' });
      input.invoiceNumber = invoiceNumber;
    }
    const submitted = flag(fields.invoice_submission);
    if (submitted !== undefined) input.invoiceSubmitted = submitted;
    if (problems.length > 0) throw invalidFields(problems);
    return input;
  }
}
