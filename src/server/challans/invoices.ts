import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import type { Tx } from '../core/db/database.js';
import { AppError, invalidFields } from '../core/http/errors.js';
import { textProblem } from '../core/text.js';
import type { Actor } from '../audit/service.js';
import { fieldsOf, futureProblems, submittedAt } from './rules.js';
import type { ChallansService } from './service.js';
import * as store from './store.js';

/**
 * Invoices across several challans in one action: link them to one invoice (number and date), mark their
 * invoices submitted. All or nothing: an unknown id (or one the caller may not see) fails the whole action.
 */
export class ChallanInvoicesService {
  constructor(private readonly ctx: AppContext, private readonly challans: ChallansService) {}

  async link(scope: Scope, input: { ids: string[]; invoiceNumber: string; invoiceDate: string }, actor: Actor) {
    const invoiceNumber = input.invoiceNumber.trim();
    const problem = textProblem(invoiceNumber);
    if (!invoiceNumber || problem) throw invalidFields([{ field: 'invoiceNumber', message: problem ?? 'is required' }]);
    const today = await this.challans.today(scope.orgId);
    const now = new Date();
    return this.each(scope, input.ids, 'challan.invoice_linked', actor, (rows) => {
      const problems = futureProblems('invoiceDate', input.invoiceDate, today);
      const later = rows.filter((r) => r.challan_date > input.invoiceDate);
      if (later.length > 0) {
        problems.push({ field: 'invoiceDate', message: `must not be before the challan date of ${later.map((r) => `${r.number} (${r.challan_date})`).join(', ')}` });
      }
      if (problems.length > 0) throw invalidFields(problems);
      return rows.map((row) => {
        const current = fieldsOf(row);
        return { ...current, invoiceNumber, invoiceDate: input.invoiceDate, invoiceSubmittedAt: submittedAt(current, invoiceNumber, undefined, now) };
      });
    });
  }

  async markSubmitted(scope: Scope, input: { ids: string[]; submitted: boolean }, actor: Actor) {
    const now = new Date();
    return this.each(scope, input.ids, 'challan.invoice_submitted', actor, (rows) => {
      const without = rows.filter((r) => r.invoice_number === null);
      if (input.submitted && without.length > 0) {
        throw invalidFields([{ field: 'ids', message: `challans without an invoice number cannot be marked submitted: ${without.map((r) => r.number).join(', ')}` }]);
      }
      return rows.map((row) => {
        const current = fieldsOf(row);
        return { ...current, invoiceSubmittedAt: submittedAt(current, current.invoiceNumber, input.submitted, now) };
      });
    });
  }

  /** Locks the challans, lets `plan` check them and give their new fields, writes the changed ones, announces them. */
  private async each(scope: Scope, ids: string[], action: string, actor: Actor, plan: (rows: store.ChallanRow[]) => store.ChallanFields[]) {
    const changed = await this.ctx.db.transaction().execute(async (tx: Tx) => {
      const rows = await store.lockChallans(tx, scope, ids);
      const found = new Set(rows.map((r) => r.id));
      const missing = ids.filter((id) => !found.has(id));
      if (missing.length > 0) throw new AppError(404, 'not_found', `challans not found: ${missing.join(', ')}`, { missing });
      const planned = plan(rows);
      const written: string[] = [];
      for (const [i, row] of rows.entries()) {
        if (await this.challans.change(tx, scope, row, planned[i]!, action, actor)) written.push(row.id);
      }
      return written;
    });
    const byId = await this.challans.byIds(scope, ids);
    for (const id of changed) await this.challans.announce('challan.updated', scope.orgId, byId.get(id)!);
    return { updated: changed.length, items: ids.map((id) => byId.get(id)!) };
  }
}
