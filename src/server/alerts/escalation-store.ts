import { sql } from 'kysely';
import type { Db, Tx } from '../core/db/database.js';
import type { AlertRow } from './evaluation-store.js';

/** SQL of the timer job that is not about one device's state: silence rules and escalations. */
type Conn = Db | Tx;

export function enabledSilenceRules(db: Conn) {
  return db.selectFrom('alert_rules').selectAll().where('enabled', '=', true).where('condition', 'in', ['offline', 'no_data']).execute();
}

/** Open (unacknowledged) alerts whose escalation wait has run out, with their rule's channels. */
export async function dueEscalations(db: Conn) {
  const result = await sql<{ id: string; device_id: string; escalation_level: number; channel_ids: string[]; escalate_after_minutes: number }>`
    SELECT a.id, a.device_id, a.escalation_level, r.channel_ids, r.escalate_after_minutes
    FROM alerts a JOIN alert_rules r ON r.id = a.rule_id
    WHERE a.status = 'open' AND a.next_escalation_at <= now() AND r.escalate_after_minutes IS NOT NULL
    LIMIT 500`.execute(db);
  return result.rows;
}

/** Moves an alert one escalation level up; `nextInMinutes` null when no channel is left after this one. */
export async function advance(db: Conn, alertId: string, nextInMinutes: number | null): Promise<AlertRow | undefined> {
  const result = await sql<AlertRow>`
    UPDATE alerts SET escalation_level = escalation_level + 1, updated_at = now(),
      next_escalation_at = ${nextInMinutes === null ? null : sql`now() + make_interval(mins => ${nextInMinutes})`}
    WHERE id = ${alertId}::uuid AND status = 'open' AND next_escalation_at <= now()
    RETURNING *`.execute(db);
  return result.rows[0];
}
