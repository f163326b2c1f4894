import { announceAccessChange, type Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { isUniqueViolation } from '../core/db/database.js';
import { conflict, invalidFields, notFound } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import { isValidTimezone } from '../../shared/validation.js';
import { changedValues, type Actor, type AuditService } from '../audit/service.js';
import type { OrganizationsService } from '../organizations/service.js';
import * as store from './store.js';

type SiteRow = Awaited<ReturnType<typeof store.insertSite>>;

export function presentSite(site: SiteRow) {
  return {
    id: site.id,
    name: site.name,
    address: site.address,
    lat: site.lat,
    lon: site.lon,
    timezone: site.timezone,
    createdAt: site.created_at.toISOString(),
    updatedAt: site.updated_at.toISOString(),
  };
}

function validate(fields: Partial<store.SiteFields>): void {
  const problems = [];
  if (fields.timezone !== undefined && !isValidTimezone(fields.timezone)) problems.push({ field: 'timezone', message: 'is not a known IANA time zone' });
  if ((fields.lat === null) !== (fields.lon === null) && fields.lat !== undefined && fields.lon !== undefined) {
    problems.push({ field: 'lat', message: 'latitude and longitude go together' });
  }
  if (problems.length > 0) throw invalidFields(problems);
}

function nameTaken(error: unknown): never {
  if (isUniqueViolation(error)) throw conflict('a site with this name already exists', [{ field: 'name', message: 'is already used by another site' }]);
  throw error;
}

export class SitesService {
  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly organizations: OrganizationsService,
  ) {}

  async list(scope: Scope, query: PageQuery & { search?: string }) {
    const page = pageRequest(query);
    const rows = await store.listSites(this.ctx.db, scope, page.limit, page.after as [string, string] | null, query.search);
    return toPage(rows, page.limit, (r) => [r.name, r.id]);
  }

  async get(scope: Scope, id: string) {
    const site = await store.findSite(this.ctx.db, scope, id);
    if (!site) throw notFound('site');
    return site;
  }

  async create(scope: Scope, fields: store.SiteFields, actor: Actor) {
    validate(fields);
    // A site without its own time zone takes the organization's.
    const timezone = fields.timezone ?? (await this.organizations.get(scope.orgId)).timezone;
    const site = await store.insertSite(this.ctx.db, scope.orgId, { ...fields, timezone }).catch(nameTaken);
    await this.audit.record(actor, { orgId: scope.orgId, action: 'site.created', resourceType: 'site', resourceId: site.id, details: { name: site.name } });
    await this.announce('site.created', site);
    return site;
  }

  async update(scope: Scope, id: string, patch: Partial<store.SiteFields>, actor: Actor) {
    validate(patch);
    const current = await this.get(scope, id);
    const site = await store.updateSite(this.ctx.db, scope, id, patch).catch(nameTaken);
    if (!site) throw notFound('site');
    await this.audit.record(actor, { orgId: scope.orgId, action: 'site.updated', resourceType: 'site', resourceId: id, name: site.name, details: { changes: changedValues(current, patch) } });
    await this.announce('site.updated', site);
    // Devices read timestamps in their site's time zone.
    if (patch.timezone !== undefined) await announceAccessChange(this.ctx.bus, { everyone: true });
    return site;
  }

  async deviceCount(scope: Scope, id: string): Promise<number> {
    await this.get(scope, id);
    return store.countSiteDevices(this.ctx.db, id);
  }

  /**
   * Deletes an empty site. A site with devices is refused: deleting it would silently take the devices
   * away from every member restricted to it (move the devices first).
   */
  async remove(scope: Scope, id: string, actor: Actor): Promise<void> {
    const site = await this.get(scope, id);
    if (!(await store.deleteSite(this.ctx.db, scope, id))) {
      const devices = await store.countSiteDevices(this.ctx.db, id);
      if (devices > 0) throw conflict(`${site.name} still has ${devices} device(s); move them to another site first`);
      throw notFound('site');
    }
    await this.audit.record(actor, { orgId: scope.orgId, action: 'site.deleted', resourceType: 'site', resourceId: id, details: { name: site.name } });
    await this.announce('site.deleted', site);
  }

  /** Live update for open consoles; only users who may see the site receive it. */
  private announce(type: string, site: SiteRow): Promise<void> {
    return this.ctx.bus.publish({ type, orgId: site.org_id, siteId: site.id, data: { site: presentSite(site) } });
  }

  /** Throws a field error unless every id is a site of the organization. */
  async assertSitesExist(orgId: string, ids: string[] | null | undefined, field = 'siteIds'): Promise<void> {
    if (!ids || ids.length === 0) return;
    const found = new Set(await store.existingSiteIds(this.ctx.db, orgId, ids));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) throw invalidFields([{ field, message: `unknown site ids: ${missing.join(', ')}` }]);
  }
}
