import type { Scope } from '../core/access.js';
import { invalidFields, type FieldError } from '../core/http/errors.js';
import { textProblem } from '../core/text.js';
import type { CustomerRow } from './customer-store.js';
import type { ChallanFields, ChallanRow } from './store.js';

/** What a client may set on a challan; the number, POD time, timestamps and authors are the server's. */
export interface ChallanInput {
  challanDate?: string;
  customerId: string;
  description: string;
  deliveryExecutives?: string[];
  invoiceNumber?: string | null;
  invoiceDate?: string | null;
  invoiceSubmitted?: boolean;
  siteId?: string | null;
}

/** Where a rule is checked: today's calendar day in the organization's time zone. */
export interface Today {
  today: string;
  zone: string;
}

export const MAX_EXECUTIVES = 20;

/** `YYMM` of a challan date: the month part of its number. */
export function monthOf(challanDate: string): string {
  return `${challanDate.slice(2, 4)}${challanDate.slice(5, 7)}`;
}

export function numberOf(month: string, sequence: number): string {
  return `${month}${String(sequence).padStart(5, '0')}`;
}

/** The stored fields of a challan as they are now (the base of a change). */
export function fieldsOf(row: ChallanRow): ChallanFields {
  return {
    siteId: row.site_id, challanDate: row.challan_date, customerId: row.customer_id, customerName: row.customer_name, description: row.description,
    deliveryExecutives: row.delivery_executives, invoiceNumber: row.invoice_number, invoiceDate: row.invoice_date, invoiceSubmittedAt: row.invoice_submitted_at,
  };
}

/**
 * When the invoice counts as submitted: kept from before when it already was for the same invoice number,
 * now when it becomes so, and never for an invoice number other than the one that was submitted.
 */
export function submittedAt(current: ChallanFields | null, invoiceNumber: string | null, submitted: boolean | undefined, now: Date): Date | null {
  const sameInvoice = current !== null && current.invoiceNumber === invoiceNumber;
  const wanted = submitted ?? (sameInvoice && current.invoiceSubmittedAt !== null);
  if (!wanted) return null;
  return sameInvoice && current.invoiceSubmittedAt ? current.invoiceSubmittedAt : now;
}

/** A day after today in the organization's time zone is refused, with the field named. */
export function futureProblems(field: string, day: string | null, today: Today): FieldError[] {
  return day !== null && day > today.today ? [{ field, message: `cannot be in the future (today is ${today.today} in ${today.zone})` }] : [];
}

/** The date rules: a challan is not dated in the future, and its invoice is neither in the future nor before it. */
export function dateProblems(challanDate: string, invoiceDate: string | null, today: Today): FieldError[] {
  const problems = [...futureProblems('challanDate', challanDate, today), ...futureProblems('invoiceDate', invoiceDate, today)];
  if (invoiceDate !== null && invoiceDate < challanDate) problems.push({ field: 'invoiceDate', message: `must not be before the challan date (${challanDate})` });
  return problems;
}

function cleanText(field: string, value: string | null | undefined, problems: FieldError[]): string | null {
  const trimmed = value?.trim() ?? '';
  const problem = textProblem(trimmed);
  if (problem) problems.push({ field, message: problem });
  return trimmed === '' ? null : trimmed;
}

/**
 * Checks a challan whole (a patch is merged with the stored challan first, so it cannot break a rule the
 * other fields keep) and answers the fields to store. `customer` is the organization's customer of
 * `input.customerId`, or undefined when there is none; `current` the stored challan of a change.
 */
export function validated(input: ChallanInput, context: { today: Today; scope: Scope; customer: CustomerRow | undefined; current: ChallanFields | null; now: Date }): ChallanFields {
  const { today, scope, customer, current } = context;
  const problems: FieldError[] = [];
  const challanDate = input.challanDate ?? today.today;
  const description = cleanText('description', input.description, problems);
  if (!description) problems.push({ field: 'description', message: 'is required: what was delivered' });
  const executives = (input.deliveryExecutives ?? []).map((name, i) => cleanText(`deliveryExecutives[${i}]`, name, problems));
  if (executives.some((name) => name === null)) problems.push({ field: 'deliveryExecutives', message: 'must not contain empty names' });
  const invoiceNumber = cleanText('invoiceNumber', input.invoiceNumber, problems);
  const invoiceDate = input.invoiceDate ?? null;
  if (input.invoiceSubmitted && !invoiceNumber) problems.push({ field: 'invoiceSubmitted', message: 'needs an invoice number' });
  problems.push(...dateProblems(challanDate, invoiceDate, today));

  const customerChanged = current === null || current.customerId !== input.customerId;
  if (!customer) problems.push({ field: 'customerId', message: 'is not a customer of this organization' });
  else if (customerChanged && !customer.is_active) problems.push({ field: 'customerId', message: `"${customer.name}" is inactive; activate the customer first` });

  const siteId = input.siteId ?? null;
  // A member limited to some sites could not see a challan outside them, so cannot make or move one there.
  if (scope.siteIds && (siteId === null || !scope.siteIds.includes(siteId)) && (current === null || siteId !== current.siteId)) {
    problems.push({ field: 'siteId', message: 'must be one of the sites you are limited to' });
  }
  if (problems.length > 0) throw invalidFields(problems);
  return {
    siteId, challanDate, customerId: input.customerId,
    // The name as it was: kept while the challan stays with the same customer.
    customerName: customerChanged ? customer!.name : current.customerName,
    description: description!, deliveryExecutives: executives as string[], invoiceNumber, invoiceDate,
    invoiceSubmittedAt: submittedAt(current, invoiceNumber, input.invoiceSubmitted, context.now),
  };
}

/**
 * A stored challan as input, to merge a patch into. Without `invoiceSubmitted`: unless the patch says, the
 * submission follows the invoice number (kept for the same invoice, cleared for another).
 */
export function inputOf(fields: ChallanFields): ChallanInput {
  return {
    challanDate: fields.challanDate, customerId: fields.customerId, description: fields.description, deliveryExecutives: fields.deliveryExecutives,
    invoiceNumber: fields.invoiceNumber, invoiceDate: fields.invoiceDate, siteId: fields.siteId,
  };
}
