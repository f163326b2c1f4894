import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Scope } from '../access.js';

/** The row's organization and site columns, when they are not `org_id` and `site_id` (e.g. `{ site: 'id' }` for sites). */
export interface ScopeColumns {
  org?: string;
  site?: string;
  /** The row's customer column, for tables a client member may read (e.g. `customer_id` of challans). */
  customer?: string;
}

/**
 * The tenant condition, written once: a row is visible when it belongs to the caller's organization and,
 * for a member limited to some sites, to one of those sites (a row without a site is then not visible);
 * for a client member, to their customer (`columns.customer`; a table without one shows them nothing).
 * `alias` is the table's name or alias in the query. The result goes into Kysely's `.where(...)` or
 * inside a raw `sql` template alike:
 *
 *   db.selectFrom('cameras as c').selectAll('c').where(inScope(scope, 'c'))
 *   sql`SELECT … FROM devices d WHERE ${inScope(scope, 'd')} AND …`
 */
export function inScope(scope: Pick<Scope, 'orgId' | 'siteIds' | 'customerId'>, alias: string, columns: ScopeColumns = {}): RawBuilder<SqlBool> {
  const org = sql.ref(`${alias}.${columns.org ?? 'org_id'}`);
  if (scope.customerId) {
    // A client member sees their customer's rows, and nothing of a table that has no customer column.
    if (!columns.customer) return sql<SqlBool>`false`;
    return sql<SqlBool>`(${org} = ${scope.orgId}::uuid AND ${sql.ref(`${alias}.${columns.customer}`)} = ${scope.customerId}::uuid)`;
  }
  if (!scope.siteIds) return sql<SqlBool>`${org} = ${scope.orgId}::uuid`;
  const site = sql.ref(`${alias}.${columns.site ?? 'site_id'}`);
  return sql<SqlBool>`(${org} = ${scope.orgId}::uuid AND ${site} = ANY(${scope.siteIds}::uuid[]))`;
}
