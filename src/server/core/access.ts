import type { FastifyReply, FastifyRequest } from 'fastify';
import type { MemberRole } from '../../shared/roles.js';
import { isAction, roleMay, type Access } from './permissions.js';
import type { Bus } from './bus.js';
import { badRequest, forbidden, unauthorized } from './http/errors.js';

/** Who is calling: a signed-in user (cookie session) or a script (personal API token). */
export interface Principal {
  userId: string;
  email: string;
  name: string;
  isSuperadmin: boolean;
  via: 'session' | 'token';
  sessionId: string | null;
  /** The CSRF token bound to the cookie session; null for bearer tokens, which need none. */
  csrfToken: string | null;
}

/**
 * What the caller may see: one organization, their role in it, and the sites they are limited to
 * (null = every site). Every store that reads tenant data takes a Scope.
 */
export interface Scope {
  orgId: string;
  userId: string;
  role: MemberRole;
  siteIds: string[] | null;
  /** A client member's customer: they see only rows of that customer (absent or null: staff). */
  customerId?: string | null;
}

export interface Identity {
  principal: Principal;
  scope: Scope | null;
}

/** A device calling with its key (`X-API-Key`). */
export interface DevicePrincipal {
  deviceId: string;
  keyId: string;
  orgId: string;
  siteId: string | null;
  kind: 'speed_radar' | 'camera' | 'refrigeration' | 'sensor';
  name: string;
  serial: string;
  speedLimit: number | null;
  speedUnits: 'mph' | 'kmh' | null;
  /** The zone a timestamp without offset is read in: the site's, else the organization's. */
  timezone: string;
}

export interface DeviceAuthenticator {
  authenticateDevice(apiKey: string): Promise<DevicePrincipal | null>;
  /** The same by the key's hash (hashToken): a connection that re-checks its key on every message hashes it once. */
  authenticateDeviceByHash(keyHash: string): Promise<DevicePrincipal | null>;
}

/** The device whose key is in the path (ThingsBoard's HTTP device API puts it there); 401 when unknown or revoked. */
export async function deviceOfPathKey(devices: DeviceAuthenticator, key: string): Promise<DevicePrincipal> {
  const device = await devices.authenticateDevice(key);
  if (!device) throw unauthorized('unknown or revoked device key');
  return device;
}

export interface Authenticator {
  authenticate(credentials: { sessionToken?: string; bearerToken?: string; orgId?: string }): Promise<Identity | null>;
}

export const SESSION_COOKIE = 'vigil_session';
export const CSRF_HEADER = 'x-csrf-token';
export const ORG_HEADER = 'x-vigil-org';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission a route requires; see core/permissions.ts. Required on every /api route. */
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
    scope: Scope | null;
    device: DevicePrincipal | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The single authorization mechanism: an onRequest hook that reads the route's `config.access`,
 * authenticates, checks CSRF for cookie-authenticated writes and applies the permission table.
 * 401 unauthenticated, 403 authenticated without the right.
 */
export function accessHook(authenticator: Authenticator, devices: DeviceAuthenticator) {
  return async function checkAccess(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    request.principal = null;
    request.scope = null;
    request.device = null;
    const access = request.routeOptions.config.access;
    // Deny by default: an API route someone forgot to give a rule is closed, not open.
    if (access === undefined && !request.is404 && request.url.startsWith('/api/')) throw forbidden('this route has no access rule');
    if (access === undefined || access === 'public') return;
    if (access === 'device') {
      const apiKey = headerValue(request, 'x-api-key');
      if (!apiKey) throw unauthorized('missing X-API-Key header');
      request.device = await devices.authenticateDevice(apiKey);
      if (!request.device) throw unauthorized('invalid or revoked device key');
      return;
    }

    const credentials = credentialsOf(request);
    if (!credentials.bearerToken && !credentials.sessionToken) throw unauthorized();

    const identity = await authenticator.authenticate(credentials);
    if (!identity) throw unauthorized('your session has expired or the token is not valid; sign in again');
    const { principal, scope } = identity;

    if (principal.via === 'session' && !SAFE_METHODS.has(request.method)) {
      const sent = headerValue(request, CSRF_HEADER);
      if (!sent || sent !== principal.csrfToken) {
        throw forbidden(`missing or wrong ${CSRF_HEADER} header (read it from GET /api/v1/auth/me)`);
      }
    }
    request.principal = principal;
    request.scope = scope;

    if (access === 'authenticated') return;
    if (access === 'superadmin') {
      if (!principal.isSuperadmin) throw forbidden('only platform administrators may do this');
      return;
    }
    if (isAction(access)) {
      if (!scope) throw forbidden('you are not a member of any organization');
      if (!roleMay(scope.role, access)) throw forbidden(`your role (${scope.role}) may not do this`);
    }
  };
}

/** The credentials a request carries: a bearer token wins over the session cookie. */
export function credentialsOf(request: FastifyRequest): { sessionToken?: string; bearerToken?: string; orgId?: string } {
  const orgId = headerValue(request, ORG_HEADER);
  if (orgId !== undefined && !UUID.test(orgId)) throw badRequest(`${ORG_HEADER} must be an organization id`);
  const authorization = headerValue(request, 'authorization');
  const bearerToken = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
  const sessionToken = bearerToken ? undefined : request.cookies[SESSION_COOKIE];
  return { sessionToken, bearerToken, orgId };
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The caller's organization scope; routes whose access is an organization action always have one. */
export function scopeOf(request: FastifyRequest): Scope {
  if (!request.scope) throw forbidden('you are not a member of any organization');
  return request.scope;
}

export function deviceOf(request: FastifyRequest): DevicePrincipal {
  if (!request.device) throw unauthorized('missing X-API-Key header');
  return request.device;
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}

/**
 * Who may do what changed (membership, role, sites, user flags, revoked credentials). Processes that
 * cache identities drop what the change touches, so it takes effect on the very next request.
 */
export const ACCESS_CHANGED = 'access.changed';

export interface AccessChange {
  /** Users or devices whose rights changed. */
  subjectIds?: string[];
  /** Session or API token ids. */
  credentialIds?: string[];
  /** Everything (e.g. an organization was renamed). */
  everyone?: boolean;
}

export function announceAccessChange(bus: Bus, change: AccessChange): Promise<void> {
  return bus.publish({ type: ACCESS_CHANGED, orgId: null, data: { ...change } });
}
