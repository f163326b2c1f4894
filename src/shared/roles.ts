/** Organization roles, from most to least powerful. */
export const ROLES = ['owner', 'admin', 'manager', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * A client company's user: a membership scoped to one customer of the organization, which reads that
 * customer's delivery challans and POD files and nothing else. Not a staff rank: it grants no staff power.
 */
export const CLIENT_ROLE = 'client';
export type MemberRole = Role | typeof CLIENT_ROLE;

const RANK: Record<MemberRole, number> = { owner: 5, admin: 4, manager: 3, operator: 2, viewer: 1, client: 0 };

/** True when `role` has at least the powers of `other`. */
export function roleAtLeast(role: MemberRole, other: MemberRole): boolean {
  return RANK[role] >= RANK[other];
}
