import type { MemberRole, Role } from '../../shared/roles.js';

const EVERY_ROLE: readonly Role[] = ['owner', 'admin', 'manager', 'operator', 'viewer'];
const ADMINS: readonly Role[] = ['owner', 'admin'];
const MANAGERS: readonly Role[] = ['owner', 'admin', 'manager'];
const OPERATORS: readonly Role[] = ['owner', 'admin', 'manager', 'operator'];

/**
 * The permission table: which organization roles may perform each action. Every API route names
 * exactly one action (or `public` / `authenticated` / `superadmin`) in its `config.access`, and a
 * test fails when a route does not. Superadmins may act in any organization as an owner.
 */
export const PERMISSIONS = {
  'org.read': EVERY_ROLE,
  'org.update': ADMINS,
  'site.read': EVERY_ROLE,
  'site.write': MANAGERS,
  'member.read': MANAGERS,
  'member.write': ADMINS,
  'regcode.read': ADMINS,
  'regcode.write': ADMINS,
  'audit.read': ADMINS,
  'stream.read': EVERY_ROLE,
  'device.read': EVERY_ROLE,
  'device.write': MANAGERS,
  // Everyone may look at cameras; their sources and credentials open a site's video, so only admins set them.
  'camera.read': EVERY_ROLE,
  'camera.write': ADMINS,
  'event.read': EVERY_ROLE,
  // Acknowledging an event (a safety violation seen to) is day-to-day work; deleting one deletes evidence: admins only.
  'event.ack': OPERATORS,
  'event.delete': ADMINS,
  'alert.read': EVERY_ROLE,
  'alert.ack': OPERATORS,
  'alertrule.read': EVERY_ROLE,
  'alertrule.write': MANAGERS,
  'notification.read': ADMINS,
  'notification.write': ADMINS,
  'maintenance.read': EVERY_ROLE,
  // Operators are the hands-on role (Polo Sanca's "admin or technician" log maintenance); viewers only read.
  'maintenance.write': OPERATORS,
  // Removing history that an inspection may ask for is a manager's decision; edits stay audited.
  'maintenance.delete': MANAGERS,
  // The delivery-challan register: office staff (operators and up) keep it, everyone reads it; deleting a challan
  // (soft, restorable for 30 days) and restoring one are for admins; the customer list is a manager's to keep.
  // A client company's user (role `client`) is in this one action only, and its stores show them only their
  // customer's rows (core/db/scope.ts): every other route of the organization refuses them.
  'challan.read': [...EVERY_ROLE, 'client'],
  'challan.write': OPERATORS,
  'challan.delete': ADMINS,
  'customer.write': MANAGERS,
  'traffic.read': EVERY_ROLE,
  // Reports only gather what the member may already read, so every role may read them; requesting one runs
  // a background job and deleting one loses a record others rely on, so that is for operators and up (day-to-day
  // staff who also acknowledge alerts), not for read-only viewers.
  'report.read': EVERY_ROLE,
  'report.write': OPERATORS,
  // A schedule sends the organization's figures outside it (email, webhooks) every week or month: managers decide that.
  'report.schedule': MANAGERS,
} as const satisfies Record<string, readonly MemberRole[]>;

export type Action = keyof typeof PERMISSIONS;

/**
 * What a route requires: an organization action, or an identity-only level: `public`, `authenticated`
 * (any signed-in user), `superadmin`, or `device` (a device key in `X-API-Key`).
 */
export type Access = Action | 'public' | 'authenticated' | 'superadmin' | 'device';

export function isAction(access: Access): access is Action {
  return access in PERMISSIONS;
}

export function roleMay(role: MemberRole, action: Action): boolean {
  // An action this version does not know (a message from a newer process during a rolling deploy) allows nobody.
  return ((PERMISSIONS[action] as readonly MemberRole[] | undefined) ?? []).includes(role);
}
