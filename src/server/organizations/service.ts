import { announceAccessChange } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import type { Tx } from '../core/db/database.js';
import { isUniqueViolation } from '../core/db/database.js';
import { conflict, invalidFields, notFound } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import { canonicalLocale } from '../../shared/format.js';
import { isValidTimezone } from '../../shared/validation.js';
import type { Actor, AuditService } from '../audit/service.js';
import * as store from './store.js';

export type OrganizationRow = Awaited<ReturnType<typeof store.findOrganization>> & {};

export function presentOrganization(org: OrganizationRow) {
  return {
    id: org.id,
    name: org.name,
    slug: org.slug,
    maxUsers: org.max_users,
    maxDevices: org.max_devices,
    maxCameras: org.max_cameras,
    allowedEmailDomains: org.allowed_email_domains,
    units: org.units,
    timezone: org.timezone,
    locale: org.locale,
    publicSharing: org.public_sharing,
    publicPhotos: org.public_photos,
    retentionDays: org.retention_days,
    createdAt: org.created_at.toISOString(),
  };
}

export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return slug || 'org';
}

/** Checks the fields and returns them with the locale in canonical form ("en-us" is stored as "en-US"). */
function validated<T extends Partial<store.OrganizationFields>>(fields: T): T {
  const problems = [];
  if (fields.timezone !== undefined && !isValidTimezone(fields.timezone)) problems.push({ field: 'timezone', message: 'is not a known IANA time zone' });
  const locale = fields.locale === undefined ? undefined : canonicalLocale(fields.locale);
  if (locale === null) problems.push({ field: 'locale', message: 'is not a supported BCP 47 language tag (e.g. en-US, en-GB, de-DE)' });
  for (const domain of fields.allowedEmailDomains ?? []) {
    if (!/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(domain)) problems.push({ field: 'allowedEmailDomains', message: `"${domain}" is not a domain name` });
  }
  if (problems.length > 0) throw invalidFields(problems);
  return locale ? { ...fields, locale } : fields;
}

export class OrganizationsService {
  constructor(private readonly ctx: AppContext, private readonly audit: AuditService) {}

  async exists(id: string): Promise<boolean> {
    return (await store.findOrganization(this.ctx.db, id)) !== undefined;
  }

  listForUser(userId: string) {
    return store.listUserOrganizations(this.ctx.db, userId);
  }

  async get(id: string) {
    const org = await store.findOrganization(this.ctx.db, id);
    if (!org) throw notFound('organization');
    return org;
  }

  /** Locks the organization for the rest of the transaction (limit checks). */
  async lock(conn: Tx, id: string) {
    const org = await store.lockOrganization(conn, id);
    if (!org) throw notFound('organization');
    return org;
  }

  async create(conn: Tx, fields: Omit<store.OrganizationFields, 'slug'> & { slug?: string }, actor: Actor) {
    const input = validated({ ...fields, slug: fields.slug ?? slugify(fields.name) });
    try {
      const org = await store.insertOrganization(conn, input);
      await this.audit.record(actor, { orgId: org.id, action: 'organization.created', resourceType: 'organization', resourceId: org.id, details: { name: org.name, slug: org.slug } }, conn);
      return org;
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`the slug "${input.slug}" is taken`, [{ field: 'slug', message: 'is already used by another organization' }]);
      throw error;
    }
  }

  async update(id: string, changes: Partial<store.OrganizationFields>, actor: Actor) {
    const patch = validated(changes);
    try {
      const org = await store.updateOrganization(this.ctx.db, id, patch);
      if (!org) throw notFound('organization');
      await this.audit.record(actor, { orgId: id, action: 'organization.updated', resourceType: 'organization', resourceId: id, name: org.name, details: { changes: patch } });
      // Names and slugs appear in every member's organization list.
      await announceAccessChange(this.ctx.bus, { everyone: true });
      // Public community pages show what an organization shares: they drop their cached answers.
      await this.ctx.bus.publish({ type: 'organization.updated', orgId: id, requires: 'org.update', data: { organizationId: id } });
      return org;
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict('this slug is taken', [{ field: 'slug', message: 'is already used by another organization' }]);
      throw error;
    }
  }

  async listAll(query: PageQuery & { search?: string }) {
    const page = pageRequest(query);
    const rows = await store.listOrganizations(this.ctx.db, page.limit, page.after as [string, string] | null, query.search?.trim() || undefined);
    return toPage(rows, page.limit, (r) => [r.name, r.id]);
  }

  organizationsWithRetention() {
    return store.organizationsWithRetention(this.ctx.db);
  }

  platformCounts() {
    return store.platformCounts(this.ctx.db);
  }
}
