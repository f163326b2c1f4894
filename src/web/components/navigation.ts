import type { DeviceKind, Me } from '../api/types';
import { may, type Action } from '../lib/access';
import type { Capabilities } from '../lib/capabilities';

export interface NavItem {
  to: string;
  label: string;
  /** The permission the page needs; the entry is shown only to roles that have it. */
  action?: Action;
  /** Only for platform administrators. */
  superadmin?: boolean;
  /** The page is about devices of this kind: shown only when the member can see one. */
  kind?: DeviceKind;
  /** The challan register: shown as Capabilities.challans says. */
  challans?: true;
}

export interface NavSection {
  title: string | null;
  items: NavItem[];
}

/** The console's navigation; the Administration entries follow the server's permission table. */
export const NAVIGATION: NavSection[] = [
  {
    title: null,
    items: [
      { to: '/dashboard', label: 'Overview' },
      { to: '/devices', label: 'Devices' },
      { to: '/cameras', label: 'Cameras', action: 'camera.read', kind: 'camera' },
      { to: '/violations', label: 'Safety violations', action: 'camera.read', kind: 'camera' },
      { to: '/events', label: 'Events' },
      { to: '/alerts', label: 'Alerts', action: 'alert.read' },
      { to: '/alerts/rules', label: 'Alert rules', action: 'alertrule.write' },
      { to: '/stats', label: 'Speed statistics', kind: 'speed_radar' },
      { to: '/maintenance', label: 'Maintenance', action: 'maintenance.read' },
      { to: '/challans', label: 'Challans', action: 'challan.read', challans: true },
      { to: '/reports', label: 'Reports' },
    ],
  },
  {
    title: 'Administration',
    items: [
      { to: '/admin/sites', label: 'Sites', action: 'site.write' },
      { to: '/admin/members', label: 'Members', action: 'member.read' },
      { to: '/admin/notifications', label: 'Notifications', action: 'notification.read' },
      { to: '/admin/registration-codes', label: 'Registration codes', action: 'regcode.write' },
      { to: '/admin/audit', label: 'Audit log', action: 'audit.read' },
      { to: '/admin/organization', label: 'Organization settings', action: 'org.update' },
    ],
  },
  {
    title: 'Platform',
    items: [
      { to: '/platform/organizations', label: 'All organizations', superadmin: true },
      { to: '/platform/users', label: 'All users', superadmin: true },
    ],
  },
];

export function navigationFor(me: Me, capabilities: Capabilities): NavSection[] {
  const shown = (item: NavItem) => (!item.action || may(me, item.action))
    && (!item.superadmin || me.user.isSuperadmin)
    && (!item.kind || (capabilities.known && capabilities.has(item.kind)))
    && (!item.challans || capabilities.challans);
  return NAVIGATION.map((section) => ({ ...section, items: section.items.filter(shown) }))
    .filter((section) => section.items.length > 0);
}
