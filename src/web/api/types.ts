/** The API's shapes the console reads (see /docs for the full contract). */
import type { MemberRole, Role } from '../../shared/roles';
import type { DeviceKind, DeviceStatus } from '../../shared/devices';

export type { DeviceKind, DeviceStatus, Role };

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Membership {
  id: string;
  name: string;
  slug: string;
  role: MemberRole;
}

export interface Me {
  user: { id: string; email: string; name: string; isSuperadmin: boolean };
  /** The organization this session acts in; null for a user who belongs to none. */
  organization: { id: string; name: string; role: MemberRole; siteIds: string[] | null; locale: string; timezone: string } | null;
  organizations: Membership[];
  csrfToken: string | null;
}

export interface Organization {
  id: string;
  name: string;
  slug: string;
  units: 'mph' | 'kmh';
  timezone: string;
  locale: string;
}

export interface Site {
  id: string;
  name: string;
  address: string | null;
  lat: number | null;
  lon: number | null;
  timezone: string;
}

export interface Device {
  id: string;
  siteId: string | null;
  kind: DeviceKind;
  name: string;
  serial: string;
  lat: number | null;
  lon: number | null;
  speedLimit: number | null;
  speedUnits: 'mph' | 'kmh' | null;
  /** Kind-specific settings: a refrigeration unit's `safeRange` ({min, max} °C) and `metrics` overrides. */
  settings: Record<string, unknown>;
  status: DeviceStatus;
  lastSeenAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface VigilEvent {
  id: string;
  deviceId: string;
  deviceName: string;
  siteId: string | null;
  ts: string;
  kind: string;
  speed: number | null;
  speedLimit: number | null;
  speeding: boolean;
  severity: string | null;
  photoUrl: string | null;
  /** When the server stored it; null for events from before this was recorded. */
  receivedAt: string | null;
}
