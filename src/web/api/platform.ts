import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from './client';
import type { Page } from './types';

/** The organization's full settings and the platform administration API (superadmins). */

export interface OrganizationSettings {
  id: string;
  name: string;
  slug: string;
  maxUsers: number | null;
  maxDevices: number | null;
  allowedEmailDomains: string[];
  units: 'mph' | 'kmh';
  timezone: string;
  /** BCP 47 tag: how dates and numbers are written. */
  locale: string;
  publicSharing: boolean;
  publicPhotos: boolean;
  retentionDays: number | null;
  createdAt: string;
}

export interface PlatformUser {
  id: string;
  email: string;
  name: string;
  isActive: boolean;
  isSuperadmin: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

export interface PlatformStats {
  organizations: number;
  users: number;
  sites: number;
  devices: number;
  eventsLast24h: number;
}

export const platformKeys = {
  organizations: ['platform', 'organizations'] as const,
  organizationList: (search: string, cursor: string | null) => ['platform', 'organizations', search, cursor] as const,
  users: ['platform', 'users'] as const,
  userList: (search: string, cursor: string | null) => ['platform', 'users', search, cursor] as const,
  stats: ['platform', 'stats'] as const,
};

/** The same key as the console's organization lookup (units, zone), so saving settings refreshes both. */
export const organizationSettingsKey = ['organization'] as const;

export function useOrganizationSettings() {
  return useQuery({ queryKey: organizationSettingsKey, queryFn: () => api<OrganizationSettings>('/organization') });
}

export function usePlatformOrganizations(search: string, cursor: string | null, limit = 25) {
  return useQuery({
    queryKey: [...platformKeys.organizationList(search, cursor), limit],
    queryFn: ({ signal }) => api<Page<OrganizationSettings>>('/organizations', { query: { search, cursor, limit }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function usePlatformUsers(search: string, cursor: string | null, limit = 25) {
  return useQuery({
    queryKey: [...platformKeys.userList(search, cursor), limit],
    queryFn: ({ signal }) => api<Page<PlatformUser>>('/admin/users', { query: { search, cursor, limit }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function usePlatformStats() {
  return useQuery({ queryKey: platformKeys.stats, queryFn: () => api<PlatformStats>('/admin/stats'), refetchInterval: 60_000 });
}
