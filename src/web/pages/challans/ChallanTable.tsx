import type { MouseEvent } from 'react';
import type { Challan, ChallanQuery, SortKey } from '../../api/challans';
import { dayDmy } from '../../../shared/challans';
import { formatTime } from '../../lib/format';
import { PodCaptureButton } from './PodUpload';

export interface RowProps {
  items: Challan[];
  selected: Set<string>;
  /** The row the keyboard is on (j/k), -1 for none. */
  active: number;
  fresh: Set<string>;
  zone: string;
  /** A checkbox click; shift-click selects the range from the last row clicked. */
  onSelect: (index: number, event: MouseEvent) => void;
  onOpen: (challan: Challan) => void;
}

const COLUMNS: { key: SortKey | null; label: string; className?: string }[] = [
  { key: 'number', label: 'Challan No.' },
  { key: 'challanDate', label: 'Date' },
  { key: 'customerName', label: 'Customer' },
  { key: null, label: 'Description' },
  { key: null, label: 'Delivered by' },
  { key: 'invoiceNumber', label: 'Invoice No.' },
  { key: 'invoiceDate', label: 'Invoice date' },
  { key: 'invoiceSubmitted', label: 'Invoice' },
  { key: 'podUploadedAt', label: 'POD' },
  { key: 'updatedAt', label: 'Updated', className: 'challan-wide-only' },
];

export function InvoiceBadge({ challan }: { challan: Challan }) {
  return challan.invoiceSubmitted
    ? <span className="challan-badge challan-badge-ok"><span aria-hidden="true">✓</span>Submitted</span>
    : <span className="challan-badge challan-badge-pending"><span aria-hidden="true">○</span>Pending</span>;
}

function PodCell({ challan, zone }: { challan: Challan; zone: string }) {
  if (!challan.pod) return <span className="challan-badge challan-badge-missing"><span aria-hidden="true">!</span>Missing</span>;
  const when = challan.podUploadedAt ? formatTime(challan.podUploadedAt, zone) : '';
  return (
    <a className="challan-pod-link" href={challan.pod.url} target="_blank" rel="noreferrer" title={`${challan.pod.fileName}, uploaded ${when}`}>
      {challan.pod.previewUrl
        ? <img className="challan-pod-thumb" src={challan.pod.previewUrl} alt="" loading="lazy" />
        : <span className="challan-pod-doc" aria-hidden="true">{challan.pod.fileName.split('.').pop()?.toUpperCase().slice(0, 4)}</span>}
      <span className="visually-hidden">Proof of delivery of {challan.number} ({challan.pod.fileName})</span>
    </a>
  );
}

/** The register as a dense table; column headers sort (click again for the other direction). */
export function ChallanTable({ items, selected, active, fresh, zone, onSelect, onOpen, query, onSort, onSelectAll }: RowProps & {
  query: ChallanQuery;
  onSort: (key: SortKey) => void;
  onSelectAll: (on: boolean) => void;
}) {
  const sort = query.sort ?? 'challanDate';
  const order = query.order ?? 'desc';
  const allSelected = items.length > 0 && items.every((c) => selected.has(c.id));
  const someSelected = !allSelected && items.some((c) => selected.has(c.id));
  return (
    <div className="table-wrap challan-table-wrap" role="region" aria-label="Delivery challans" tabIndex={0}>
      <table className="table challan-table">
        <thead>
          <tr>
            <th scope="col" className="check">
              <input type="checkbox" aria-label="Select every challan on this page" checked={allSelected}
                ref={(el) => { if (el) el.indeterminate = someSelected; }} onChange={(e) => onSelectAll(e.target.checked)} />
            </th>
            {COLUMNS.map((column) => (
              <th key={column.label} scope="col" className={column.className} aria-sort={column.key === sort ? (order === 'asc' ? 'ascending' : 'descending') : undefined}>
                {column.key ? (
                  <button type="button" className="challan-sort" onClick={() => onSort(column.key!)}>
                    {column.label}
                    <span aria-hidden="true" className="challan-sort-mark">{column.key === sort ? (order === 'asc' ? '▲' : '▼') : '↕'}</span>
                  </button>
                ) : column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {items.map((challan, index) => (
            <tr key={challan.id} data-id={challan.id}
              className={[selected.has(challan.id) ? 'challan-selected' : '', index === active ? 'challan-active' : '', fresh.has(challan.id) ? 'row-new' : ''].join(' ').trim() || undefined}
              aria-selected={selected.has(challan.id)}>
              <td className="check">
                <input type="checkbox" aria-label={`Select ${challan.number}`} checked={selected.has(challan.id)}
                  onChange={() => undefined} onClick={(e) => onSelect(index, e)} />
              </td>
              <td className="nowrap">
                <button type="button" className="challan-number" onClick={() => onOpen(challan)} aria-label={`Open ${challan.number}`}>{challan.number}</button>
              </td>
              <td className="nowrap">{dayDmy(challan.challanDate)}</td>
              <td className="challan-customer" title={challan.customerName}>{challan.customerName}</td>
              <td className="challan-description" title={challan.description}>{challan.description}</td>
              <td className="challan-people" title={challan.deliveryExecutives.join(', ')}>{challan.deliveryExecutives.join(', ')}</td>
              <td className="nowrap">{challan.invoiceNumber ?? ''}</td>
              <td className="nowrap">{dayDmy(challan.invoiceDate)}</td>
              <td><InvoiceBadge challan={challan} /></td>
              <td><PodCell challan={challan} zone={zone} /></td>
              <td className="nowrap small muted challan-wide-only" title={challan.updatedByName ? `by ${challan.updatedByName}` : undefined}>{formatTime(challan.updatedAt, zone)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The phone's register: a card per challan with the upload button up front. */
export function ChallanCards({ items, selected, active, fresh, onSelect, onOpen, canWrite, onUploaded }: RowProps & {
  canWrite: boolean;
  onUploaded: (message: string) => void;
}) {
  return (
    <ul className="challan-cards" aria-label="Delivery challans">
      {items.map((challan, index) => (
        <li key={challan.id} data-id={challan.id}
          className={['challan-card', selected.has(challan.id) ? 'challan-selected' : '', index === active ? 'challan-active' : '', fresh.has(challan.id) ? 'row-new' : ''].join(' ').trim()}>
          <div className="challan-card-head">
            <input type="checkbox" aria-label={`Select ${challan.number}`} checked={selected.has(challan.id)} onChange={() => undefined} onClick={(e) => onSelect(index, e)} />
            <button type="button" className="challan-number" onClick={() => onOpen(challan)} aria-label={`Open ${challan.number}`}>{challan.number}</button>
            <span className="muted small">{dayDmy(challan.challanDate)}</span>
          </div>
          <p className="challan-card-customer">{challan.customerName}</p>
          <p className="challan-card-description">{challan.description}</p>
          {challan.deliveryExecutives.length > 0 && <p className="small muted">By {challan.deliveryExecutives.join(', ')}</p>}
          <div className="challan-card-badges">
            <InvoiceBadge challan={challan} />
            {challan.invoiceNumber && <span className="small muted">Invoice {challan.invoiceNumber}{challan.invoiceDate ? ` · ${dayDmy(challan.invoiceDate)}` : ''}</span>}
            {challan.pod
              ? <a className="challan-badge challan-badge-ok" href={challan.pod.url} target="_blank" rel="noreferrer"><span aria-hidden="true">✓</span>POD received</a>
              : <span className="challan-badge challan-badge-missing"><span aria-hidden="true">!</span>POD missing</span>}
          </div>
          {canWrite && <PodCaptureButton challan={challan} onDone={onUploaded} />}
        </li>
      ))}
    </ul>
  );
}
