import type { ChallanQuery, Customer } from '../../api/challans';
import { chipsOf, OUTSTANDING_DAYS } from './filters';
import { formatNumber } from '../../lib/format';

type Update = (changes: Record<string, string | null>) => void;

function DateRange({ id, legend, from, to, fromName, toName, update }: {
  id: string; legend: string; from?: string; to?: string; fromName: string; toName: string; update: Update;
}) {
  return (
    <fieldset className="challan-range">
      <legend>{legend}</legend>
      <div className="challan-range-fields">
        <label className="visually-hidden" htmlFor={`${id}-from`}>{legend} from</label>
        <input id={`${id}-from`} type="date" value={from ?? ''} max={to} onChange={(e) => update({ [fromName]: e.target.value || null })} />
        <span aria-hidden="true">–</span>
        <label className="visually-hidden" htmlFor={`${id}-to`}>{legend} to</label>
        <input id={`${id}-to`} type="date" value={to ?? ''} min={from} onChange={(e) => update({ [toName]: e.target.value || null })} />
      </div>
    </fieldset>
  );
}

/**
 * The register's filters: every change goes to the address at once (the list follows it). On a phone
 * the same panel is a sheet from the bottom, closed with Done.
 */
export function ChallanFilterPanel({ query, customers, update, onClose }: {
  query: ChallanQuery; customers: Customer[]; update: Update; onClose: () => void;
}) {
  return (
    <>
      <div className="challan-sheet-backdrop" onClick={onClose} aria-hidden="true" />
      <section className="challan-filter-panel" aria-label="Filters">
        <div className="challan-sheet-header">
          <h2>Filters</h2>
          <button type="button" className="button button-small" onClick={onClose}>Done</button>
        </div>
        <div className="challan-filter-grid">
          <DateRange id="filter-date" legend="Challan date" from={query.from} to={query.to} fromName="from" toName="to" update={update} />
          <div className="field">
            <label htmlFor="filter-customer">Customer</label>
            <select id="filter-customer" value={query.customerId ?? ''} onChange={(e) => update({ customerId: e.target.value || null })}>
              <option value="">All customers</option>
              {customers.map((c) => <option key={c.id} value={c.id}>{c.name}{c.active ? '' : ' (inactive)'}</option>)}
            </select>
          </div>
          <div className="field">
            <label htmlFor="filter-invoice">Invoice</label>
            <select id="filter-invoice" value={query.invoice ?? ''} onChange={(e) => update({ invoice: e.target.value || null })}>
              <option value="">Submitted or pending</option>
              <option value="submitted">Submitted</option>
              <option value="pending">Pending</option>
            </select>
          </div>
          <DateRange id="filter-invoice-date" legend="Invoice date" from={query.invoiceFrom} to={query.invoiceTo} fromName="invoiceFrom" toName="invoiceTo" update={update} />
          <div className="field">
            <label htmlFor="filter-pod">Proof of delivery</label>
            <select id="filter-pod" value={query.pod ?? ''} onChange={(e) => update({ pod: e.target.value || null })}>
              <option value="">Received or missing</option>
              <option value="received">Received</option>
              <option value="missing">Missing</option>
            </select>
          </div>
          <DateRange id="filter-pod-date" legend="POD uploaded" from={query.podFrom} to={query.podTo} fromName="podFrom" toName="podTo" update={update} />
          <div className="field">
            <label htmlFor="filter-outstanding">Outstanding</label>
            <select id="filter-outstanding" value={query.outstandingDays ?? ''} onChange={(e) => update({ outstandingDays: e.target.value || null })}>
              <option value="">Any age</option>
              {[...new Set([...OUTSTANDING_DAYS, query.outstandingDays ?? OUTSTANDING_DAYS[0]])].sort((a, b) => a - b).map((days) => <option key={days} value={days}>{days}+ days without POD or submitted invoice</option>)}
            </select>
          </div>
        </div>
      </section>
    </>
  );
}

/** The filters in force as chips, each removable, with "showing X of Y". */
export function FilterChips({ query, customers, update, shown, total, totalExact }: {
  query: ChallanQuery; customers: Customer[] | undefined; update: Update;
  /** The first and last row of this page (1-based), or null while loading. */
  shown: [number, number] | null; total: number | null; totalExact: boolean;
}) {
  const chips = chipsOf(query, customers);
  const clearAll = () => update(Object.fromEntries(chips.flatMap((c) => c.clears).map((name) => [name, null])));
  return (
    <div className="challan-chips-row">
      {chips.length > 0 && <ul className="challan-chips" aria-label="Filters in force">
        {chips.map((chip) => (
          <li key={chip.label} className="challan-chip">
            <span>{chip.label}</span>
            <button type="button" aria-label={`Remove filter: ${chip.label}`} onClick={() => update(Object.fromEntries(chip.clears.map((name) => [name, null])))}>
              <span aria-hidden="true">×</span>
            </button>
          </li>
        ))}
        {chips.length > 1 && <li><button type="button" className="button-quiet challan-clear" onClick={clearAll}>Clear all</button></li>}
      </ul>}
      {shown !== null && total !== null && (
        <p className="challan-count muted small" aria-live="polite">
          {total === 0 ? 'Showing 0 of 0' : `Showing ${shown[0] === shown[1] ? formatNumber(shown[0]) : `${formatNumber(shown[0])}–${formatNumber(shown[1])}`} of ${totalExact ? formatNumber(total) : `more than ${formatNumber(total)}`}`}
        </p>
      )}
    </div>
  );
}
