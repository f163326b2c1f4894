import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, setCsrfToken } from './client';
import type { Me, Page, Role } from './types';

/** The API's shapes and calls for signing up, the user's own account, and registration codes. */

export interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface RegistrationCode {
  id: string;
  prefix: string;
  label: string | null;
  role: Role;
  siteIds: string[] | null;
  maxUses: number;
  uses: number;
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

export interface Registered {
  user: { id: string; email: string; name: string };
  organization: { id: string; name: string };
  role: Role;
}

export interface InvitationPreview {
  email: string;
  organizationName: string;
  role: Role;
  expiresAt: string;
  /** The address already has an account: its password accepts, no new name needed. */
  accountExists: boolean;
}

export const accountKeys = {
  tokens: ['account', 'tokens'] as const,
  tokenList: (cursor: string | null) => ['account', 'tokens', cursor] as const,
  registrationCodes: ['registration-codes'] as const,
  registrationCodeList: (cursor: string | null) => ['registration-codes', cursor] as const,
  setup: ['setup'] as const,
  invitation: (token: string) => ['invitation', token] as const,
};

/** Signs in (after setup or sign-up) and returns the new session, remembering its CSRF token. */
export async function signIn(email: string, password: string): Promise<Me> {
  const session = await api<Me>('/auth/login', { method: 'POST', body: { email, password }, redirectOn401: false });
  setCsrfToken(session.csrfToken);
  return session;
}

/** Whether first-run setup is still open, and whether this setup link's token is the current one. */
export function useSetupState(token: string) {
  return useQuery({
    queryKey: [...accountKeys.setup, token],
    queryFn: () => api<{ required: boolean; tokenValid?: boolean }>('/setup', { query: { token }, redirectOn401: false }),
    retry: false,
  });
}

export function useApiTokens(cursor: string | null, limit = 25) {
  return useQuery({
    queryKey: [...accountKeys.tokenList(cursor), limit],
    queryFn: ({ signal }) => api<Page<ApiToken>>('/auth/tokens', { query: { cursor, limit }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function useRegistrationCodes(cursor: string | null, limit = 25) {
  return useQuery({
    queryKey: [...accountKeys.registrationCodeList(cursor), limit],
    queryFn: ({ signal }) => api<Page<RegistrationCode>>('/registration-codes', { query: { cursor, limit }, signal }),
    placeholderData: keepPreviousData,
  });
}

/** What an invitation link offers; an ApiError (400) once it is used, revoked or expired. */
export function useInvitationPreview(token: string) {
  return useQuery({
    queryKey: accountKeys.invitation(token),
    queryFn: () => api<InvitationPreview>('/auth/invitation', { query: { token }, redirectOn401: false }),
    enabled: token.length >= 10,
    retry: false,
    staleTime: Infinity,
  });
}
