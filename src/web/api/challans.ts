import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, apiUrl, ApiError, currentCsrfToken } from './client';
import type { Page } from './types';

/**
 * The delivery-challan register's shapes and queries. Every key starts with 'challans' or 'customers', so
 * the live stream's challan and customer messages refresh every view with one invalidation each.
 */

export interface PodSummary {
  fileId: string;
  version: number;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  url: string;
  previewUrl: string | null;
}

export interface Challan {
  id: string;
  number: string;
  challanDate: string;
  siteId: string | null;
  customerId: string;
  customerName: string;
  description: string;
  deliveryExecutives: string[];
  invoiceNumber: string | null;
  invoiceDate: string | null;
  invoiceSubmitted: boolean;
  invoiceSubmittedAt: string | null;
  pod: PodSummary | null;
  podUploadedAt: string | null;
  createdByName: string | null;
  createdAt: string;
  updatedByName: string | null;
  updatedAt: string;
  deletedAt: string | null;
  deletedByName: string | null;
  deleteReason: string | null;
}

export interface PodVersion {
  id: string;
  version: number;
  current: boolean;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  uploadedAt: string;
  uploadedByName: string | null;
  url: string;
  previewUrl: string | null;
}

export interface ChallanInput {
  challanDate?: string;
  customerId: string;
  description: string;
  deliveryExecutives: string[];
  invoiceNumber: string | null;
  invoiceDate: string | null;
  invoiceSubmitted: boolean;
}

export interface Customer {
  id: string;
  name: string;
  tag: string;
  address: string | null;
  contact: string | null;
  active: boolean;
}

export type CustomerInput = Pick<Customer, 'name' | 'tag' | 'address' | 'contact' | 'active'>;

export const SORT_KEYS = ['number', 'challanDate', 'customerName', 'invoiceNumber', 'invoiceDate', 'invoiceSubmitted', 'podUploadedAt', 'createdAt', 'updatedAt'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** The list's filter and sort as the API takes them (and as the page keeps them in its address). */
export interface ChallanQuery {
  q?: string;
  from?: string;
  to?: string;
  customerId?: string;
  invoice?: 'submitted' | 'pending';
  invoiceFrom?: string;
  invoiceTo?: string;
  pod?: 'received' | 'missing';
  podFrom?: string;
  podTo?: string;
  /** POD outstanding: this many days old or older without POD or without a submitted invoice. */
  outstandingDays?: number;
  sort?: SortKey;
  order?: 'asc' | 'desc';
}

export interface ChallanPage extends Page<Challan> {
  total: number;
  totalExact: boolean;
}

export const challanKeys = {
  all: ['challans'] as const,
  list: (query: ChallanQuery, cursor: string | null) => ['challans', 'list', query, cursor] as const,
  detail: (id: string) => ['challans', 'detail', id] as const,
  deleted: (q: string, cursor: string | null) => ['challans', 'deleted', q, cursor] as const,
  versions: (id: string) => ['challans', 'pod-versions', id] as const,
  customers: ['customers'] as const,
  customerList: (q: string, cursor: string | null) => ['customers', 'list', q, cursor] as const,
};

export const PAGE_SIZE = 100;

export function useChallans(query: ChallanQuery, cursor: string | null) {
  return useQuery({
    queryKey: challanKeys.list(query, cursor),
    queryFn: ({ signal }) => api<ChallanPage>('/challans', { query: { ...query, cursor, limit: PAGE_SIZE }, signal }),
    placeholderData: keepPreviousData,
  });
}

/** The deleted challans (admins), the latest deletion first. */
export function useDeletedChallans(q: string, cursor: string | null) {
  return useQuery({
    queryKey: challanKeys.deleted(q, cursor),
    queryFn: ({ signal }) => api<ChallanPage>('/challans', { query: { deleted: true, q: q || undefined, sort: 'deletedAt', cursor, limit: 50 }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function useChallan(id: string | null) {
  return useQuery({
    queryKey: challanKeys.detail(id ?? ''),
    queryFn: ({ signal }) => api<Challan>(`/challans/${id}`, { signal }),
    enabled: Boolean(id),
  });
}

export function usePodVersions(id: string, enabled: boolean) {
  return useQuery({
    queryKey: challanKeys.versions(id),
    queryFn: ({ signal }) => api<{ items: PodVersion[] }>(`/challans/${id}/pod/versions`, { signal }),
    enabled,
  });
}

/** Every customer of the organization (the picker and the filter), read in pages of 200. */
export function useAllCustomers() {
  return useQuery({
    queryKey: [...challanKeys.customers, 'all'],
    queryFn: async ({ signal }) => {
      const all: Customer[] = [];
      let cursor: string | null = null;
      do {
        const page: Page<Customer> = await api<Page<Customer>>('/customers', { query: { cursor, limit: 200 }, signal });
        all.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && all.length < 5000);
      return all;
    },
    staleTime: 60_000,
  });
}

export function useCustomerPage(q: string, cursor: string | null) {
  return useQuery({
    queryKey: challanKeys.customerList(q, cursor),
    queryFn: ({ signal }) => api<Page<Customer>>('/customers', { query: { q, cursor, limit: 50 }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function saveChallan(id: string | null, input: ChallanInput) {
  return id ? api<Challan>(`/challans/${id}`, { method: 'PATCH', body: input }) : api<Challan>('/challans', { method: 'POST', body: input });
}

export function saveCustomer(id: string | null, input: CustomerInput) {
  return id ? api<Customer>(`/customers/${id}`, { method: 'PATCH', body: input }) : api<Customer>('/customers', { method: 'POST', body: input });
}

/**
 * Attaches (or replaces) the proof of delivery with upload progress, which fetch cannot report; the
 * server's answer becomes an ApiError like any other.
 */
export function uploadPod(id: string, file: File, onProgress: (fraction: number) => void): Promise<Challan> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', apiUrl(`/challans/${id}/pod`));
    request.setRequestHeader('accept', 'application/json');
    const token = currentCsrfToken();
    if (token) request.setRequestHeader('x-csrf-token', token);
    request.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    request.onerror = () => reject(new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.'));
    request.onload = () => {
      let body: { error?: { code?: string; message?: string } } & Partial<Challan> = {};
      try { body = JSON.parse(request.responseText) as typeof body; } catch { /* not JSON: keep the status */ }
      if (request.status >= 200 && request.status < 300) return resolve(body as Challan);
      const message = body.error?.message ?? `The server answered ${request.status}`;
      reject(new ApiError(request.status, body.error?.code ?? 'http_error', `${message[0]!.toUpperCase()}${message.slice(1)}`));
    };
    const form = new FormData();
    form.append('file', file, file.name);
    request.send(form);
  });
}

/** The selection's four-line blocks, as the server writes them (the same formatter as its CSV). */
export async function clipboardTextFor(ids: string[]): Promise<string> {
  const response = await fetch(apiUrl('/challans/clipboard'), {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrf-token': currentCsrfToken() ?? '' },
    body: JSON.stringify({ ids }),
  });
  if (!response.ok) throw new ApiError(response.status, 'http_error', 'The rows could not be copied. Try again.');
  return response.text();
}

/** Downloads the selection's CSV (a POST, so through a blob); the filtered list's CSV is a plain link. */
export async function downloadSelectedCsv(ids: string[]): Promise<void> {
  const response = await fetch(apiUrl('/challans/export'), {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrf-token': currentCsrfToken() ?? '' },
    body: JSON.stringify({ ids }),
  });
  if (!response.ok) throw new ApiError(response.status, 'http_error', 'The export failed. Try again.');
  const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'delivery-challans.csv';
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
