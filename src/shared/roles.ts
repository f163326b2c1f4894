/** Organization roles, from most to least powerful. */
export const ROLES = ['owner', 'admin', 'manager', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { owner: 5, admin: 4, manager: 3, operator: 2, viewer: 1 };

/** True when `role` has at least the powers of `other`. */
export function roleAtLeast(role: Role, other: Role): boolean {
  return RANK[role] >= RANK[other];
}
