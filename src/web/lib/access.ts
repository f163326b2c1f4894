import { roleMay, type Action } from '../../server/core/permissions';
import type { Me } from '../api/types';

export type { Action };

/**
 * Whether the signed-in user may perform an action in the active organization, by the server's own
 * permission table (the server still decides; this only shapes navigation). Platform administrators
 * act as owners.
 */
export function may(me: Me, action: Action): boolean {
  if (me.user.isSuperadmin) return true;
  return me.organization !== null && roleMay(me.organization.role, action);
}
