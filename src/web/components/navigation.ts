import type { Me } from '../api/types';
import { may, type Action } from '../lib/access';

export interface NavItem {
  to: string;
  label: string;
  /** The permission the page needs; the entry is shown only to roles that have it. */
  action?: Action;
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
      { to: '/events', label: 'Events' },
      { to: '/stats', label: 'Speed statistics' },
    ],
  },
  {
    title: 'Administration',
    items: [
      { to: '/admin/sites', label: 'Sites', action: 'site.write' },
      { to: '/admin/members', label: 'Members', action: 'member.read' },
      { to: '/admin/audit', label: 'Audit log', action: 'audit.read' },
      { to: '/admin/organization', label: 'Organization settings', action: 'org.update' },
    ],
  },
];

export function navigationFor(me: Me): NavSection[] {
  return NAVIGATION.map((section) => ({ ...section, items: section.items.filter((item) => !item.action || may(me, item.action)) }))
    .filter((section) => section.items.length > 0);
}
