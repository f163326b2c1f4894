import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import * as peopleStore from './people-store.js';
import type { AlertsService } from './service.js';

export interface Person {
  id: string;
  name: string;
}

/**
 * Who acknowledged and who resolved an alert, by name: the alert detail shows people, and its readers
 * (viewers, operators) may not list the organization's members.
 */
export class AlertPeopleService {
  constructor(private readonly ctx: AppContext, private readonly alerts: AlertsService) {}

  async of(scope: Scope, alertId: string): Promise<{ acknowledgedBy: Person | null; resolvedBy: Person | null }> {
    const alert = await this.alerts.get(scope, alertId);
    const ids = [alert.acknowledged_by, alert.resolved_by].filter((id): id is string => id !== null);
    const names = await peopleStore.userNames(this.ctx.db, [...new Set(ids)]);
    const person = (id: string | null): Person | null => (id ? { id, name: names.get(id) ?? 'A former user' } : null);
    return { acknowledgedBy: person(alert.acknowledged_by), resolvedBy: person(alert.resolved_by) };
  }
}
