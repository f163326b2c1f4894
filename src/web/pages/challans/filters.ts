import { SORT_KEYS, type ChallanQuery, type Customer, type SortKey } from '../../api/challans';
import { dayDmy } from '../../../shared/challans';

/** The register's filter lives in the address, so a reload or a shared link shows the same rows. */

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DAY_PARAMS = ['from', 'to', 'invoiceFrom', 'invoiceTo', 'podFrom', 'podTo'] as const;
/** Every parameter the filter form sets (search and sort are kept apart: they are not chips). */
export const FILTER_PARAMS = ['customerId', 'invoice', 'pod', 'outstandingDays', ...DAY_PARAMS] as const;
/** The outstanding choices offered (the API takes any number of days from 1 to 3650). */
export const OUTSTANDING_DAYS = [3, 7, 14, 30] as const;

export function queryOf(params: URLSearchParams): ChallanQuery {
  const query: ChallanQuery = {};
  const q = params.get('q')?.trim();
  if (q) query.q = q.slice(0, 200);
  for (const name of DAY_PARAMS) {
    const value = params.get(name);
    if (value && DAY.test(value)) query[name] = value;
  }
  const customerId = params.get('customerId');
  if (customerId && UUID.test(customerId)) query.customerId = customerId;
  const invoice = params.get('invoice');
  if (invoice === 'submitted' || invoice === 'pending') query.invoice = invoice;
  const pod = params.get('pod');
  if (pod === 'received' || pod === 'missing') query.pod = pod;
  const outstanding = Number(params.get('outstandingDays'));
  if (Number.isInteger(outstanding) && outstanding >= 1 && outstanding <= 3650) query.outstandingDays = outstanding;
  const sort = params.get('sort');
  if (sort && (SORT_KEYS as readonly string[]).includes(sort)) query.sort = sort as SortKey;
  const order = params.get('order');
  if (order === 'asc' || order === 'desc') query.order = order;
  return query;
}

export interface Chip {
  label: string;
  /** The parameters removing the chip clears. */
  clears: string[];
}

function range(name: string, from: string | undefined, to: string | undefined): string | null {
  if (from && to) return `${name} ${dayDmy(from)} – ${dayDmy(to)}`;
  if (from) return `${name} from ${dayDmy(from)}`;
  if (to) return `${name} until ${dayDmy(to)}`;
  return null;
}

/** One removable chip per filter in force, in words. */
export function chipsOf(query: ChallanQuery, customers: Customer[] | undefined): Chip[] {
  const chips: Chip[] = [];
  if (query.q) chips.push({ label: `Search “${query.q}”`, clears: ['q'] });
  const dates = range('Date', query.from, query.to);
  if (dates) chips.push({ label: dates, clears: ['from', 'to'] });
  if (query.customerId) {
    const name = customers?.find((c) => c.id === query.customerId)?.name ?? 'one customer';
    chips.push({ label: `Customer: ${name}`, clears: ['customerId'] });
  }
  if (query.invoice) chips.push({ label: query.invoice === 'submitted' ? 'Invoice submitted' : 'Invoice pending', clears: ['invoice'] });
  const invoiceDates = range('Invoice date', query.invoiceFrom, query.invoiceTo);
  if (invoiceDates) chips.push({ label: invoiceDates, clears: ['invoiceFrom', 'invoiceTo'] });
  if (query.pod) chips.push({ label: query.pod === 'received' ? 'POD received' : 'POD missing', clears: ['pod'] });
  const podDates = range('POD uploaded', query.podFrom, query.podTo);
  if (podDates) chips.push({ label: podDates, clears: ['podFrom', 'podTo'] });
  if (query.outstandingDays) chips.push({ label: `Outstanding ${query.outstandingDays}+ days (POD or invoice)`, clears: ['outstandingDays'] });
  return chips;
}

/** The list's parameters for the CSV link (filters and sort, no paging). */
export function csvHref(query: ChallanQuery): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value) params.set(name, String(value));
  const search = params.toString();
  return `/api/v1/challans.csv${search ? `?${search}` : ''}`;
}

/** Today as YYYY-MM-DD in a time zone (the organization's: the API refuses later challan dates). */
export function todayIn(zone: string): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}
