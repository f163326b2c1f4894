import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api } from './client';
import type { Page, Role, Site } from './types';

/** The administration API's shapes and queries: sites, members, invitations and the audit log. */

export interface SiteRecord extends Site {
  createdAt: string;
  updatedAt: string;
}

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
  /** null: every site. */
  siteIds: string[] | null;
  isActive: boolean;
  joinedAt: string;
  lastLoginAt: string | null;
}

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  siteIds: string[] | null;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  revokedAt: string | null;
}

export interface AuditEntry {
  id: number;
  actorUserId: string | null;
  actor: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
  createdAt: string;
}

export interface SiteInput {
  name: string;
  address: string | null;
  lat: number | null;
  lon: number | null;
  timezone?: string;
}

/** Keys: sites under 'sites' (so the console's site lookup refreshes too), the rest under their own. */
export const adminKeys = {
  sites: ['sites'] as const,
  siteList: (search: string, cursor: string | null) => ['sites', 'list', search, cursor] as const,
  members: ['members'] as const,
  memberList: (search: string, cursor: string | null) => ['members', 'list', search, cursor] as const,
  invitations: ['invitations'] as const,
  audit: ['audit'] as const,
  auditList: (filter: AuditFilter) => ['audit', 'list', filter] as const,
};

export function useSiteList(search: string, cursor: string | null, limit = 25) {
  return useQuery({
    queryKey: [...adminKeys.siteList(search, cursor), limit],
    queryFn: ({ signal }) => api<Page<SiteRecord>>('/sites', { query: { search, cursor, limit }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function useMemberList(search: string, cursor: string | null, limit = 25) {
  return useQuery({
    queryKey: [...adminKeys.memberList(search, cursor), limit],
    queryFn: ({ signal }) => api<Page<Member>>('/members', { query: { search, cursor, limit }, signal }),
    placeholderData: keepPreviousData,
  });
}

/** Invitations not yet accepted, revoked or expired (up to 200). */
export function usePendingInvitations() {
  return useQuery({
    queryKey: adminKeys.invitations,
    queryFn: async ({ signal }) => {
      const page = await api<Page<Invitation>>('/invitations', { query: { limit: 200 }, signal });
      const now = Date.now();
      return page.items.filter((i) => !i.acceptedAt && !i.revokedAt && Date.parse(i.expiresAt) > now);
    },
  });
}

export interface AuditFilter {
  action?: string;
  from?: string;
  to?: string;
}

export function useAuditLog(filter: AuditFilter, limit = 50) {
  return useInfiniteQuery({
    queryKey: adminKeys.auditList(filter),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) => api<Page<AuditEntry>>('/audit', { query: { ...filter, cursor: pageParam, limit }, signal }),
    getNextPageParam: (last) => last.nextCursor,
  });
}
