import type { Principal, Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import type { Tx } from '../core/db/database.js';
import { forbidden, invalidFields, notFound } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { DevicesService } from '../devices/service.js';
import type { SitesService } from '../sites/service.js';
import * as evaluation from './evaluation-store.js';
import { applies, rank, RULES_CHANGED } from './rule-book.js';
import { defaultTemplate, priorityKey, validateRule, type RuleInput, type RuleRow } from './rule-model.js';
import * as rulesStore from './rules-store.js';
import type { AlertTransitions } from './transitions.js';

export type RulePatch = Partial<RuleInput>;

function inputOf(rule: RuleRow): RuleInput {
  return {
    name: rule.name, description: rule.description, scope: rule.scope, siteId: rule.site_id, deviceId: rule.device_id, deviceKind: rule.device_kind,
    condition: rule.condition, metric: rule.metric, eventKind: rule.event_kind, operator: rule.operator, threshold: rule.threshold,
    thresholdHigh: rule.threshold_high, clearThreshold: rule.clear_threshold, clearThresholdHigh: rule.clear_threshold_high, textValue: rule.text_value,
    durationSeconds: rule.duration_seconds, severity: rule.severity, messageTemplate: rule.message_template, activeHours: rule.active_hours,
    enabled: rule.enabled, autoResolve: rule.auto_resolve, channelIds: rule.channel_ids, escalateAfterMinutes: rule.escalate_after_minutes,
  };
}

/**
 * Alert rules: who may write which scope, validation against what the organization has (sites,
 * devices, metrics, channels), the audit trail, and the bus message that refreshes every process's
 * rule book.
 */
export class AlertRulesService {
  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly devices: DevicesService,
    private readonly sites: SitesService,
    private readonly transitions: AlertTransitions,
  ) {}

  async list(scope: Scope, query: PageQuery & rulesStore.RuleFilter) {
    const page = pageRequest(query);
    const rows = await rulesStore.listRules(this.ctx.db, scope, query, page.limit, page.after as [string, string] | null);
    return toPage(rows, page.limit, (r) => [r.name, r.id]);
  }

  async get(scope: Scope, id: string): Promise<RuleRow> {
    const rule = await rulesStore.findRule(this.ctx.db, scope, id);
    if (!rule) throw notFound('alert rule');
    return rule;
  }

  /** Every rule that could apply to the device, ranked 1 (device) … 4 (global), with the ones priority overrides marked. */
  async effectiveFor(scope: Scope, deviceId: string) {
    const device = await this.devices.get(scope, deviceId);
    const target = { id: device.id, orgId: device.org_id, siteId: device.site_id, kind: device.kind };
    const rules = (await rulesStore.rulesForDevice(this.ctx.db, target)).filter((rule) => applies(rule, target));
    return { deviceId, rules: rank(rules) };
  }

  private async check(scope: Scope, principal: Principal, input: RuleInput): Promise<RuleInput> {
    if (input.scope === 'global' && !principal.isSuperadmin) throw forbidden('only platform administrators may manage global rules');
    if (scope.siteIds && (input.scope === 'global' || input.scope === 'organization')) {
      throw forbidden('you are limited to some sites: write site or device rules for them');
    }
    const orgId = input.scope === 'global' ? null : scope.orgId;
    const seen = input.metric && input.condition !== 'event' ? await rulesStore.metricSeen(this.ctx.db, orgId, input.metric) : { number: true, text: false, value: false };
    const problems = validateRule(input, () => seen);
    const channelIds = input.channelIds ?? [];
    if (input.scope === 'global' && channelIds.length > 0) problems.push({ field: 'channelIds', message: 'global rules notify in the app only: channels belong to one organization' });
    else if (channelIds.length > 0) {
      const known = await rulesStore.existingChannels(this.ctx.db, scope.orgId, channelIds);
      const missing = channelIds.filter((id) => !known.has(id));
      if (missing.length > 0) problems.push({ field: 'channelIds', message: `not notification channels of this organization: ${missing.join(', ')}` });
    }
    if (problems.length > 0) throw invalidFields(problems);
    if (input.siteId) await this.sites.get(scope, input.siteId).catch(() => { throw invalidFields([{ field: 'siteId', message: 'is not a site you can see' }]); });
    if (input.deviceId) await this.devices.get(scope, input.deviceId).catch(() => { throw invalidFields([{ field: 'deviceId', message: 'is not a device you can see' }]); });
    return { ...input, messageTemplate: input.messageTemplate ?? defaultTemplate(input.condition, input.operator) };
  }

  async create(scope: Scope, principal: Principal, input: RuleInput, actor: Actor): Promise<RuleRow> {
    const checked = await this.check(scope, principal, input);
    const orgId = checked.scope === 'global' ? null : scope.orgId;
    const rule = await this.ctx.db.transaction().execute(async (tx) => {
      const row = await rulesStore.insertRule(tx, orgId, checked, principal.userId);
      if (row.enabled) await this.forgetAround(tx, orgId, [priorityKey(row)]);
      await this.audit.record(actor, { orgId, action: 'alert_rule.created', resourceType: 'alert_rule', resourceId: row.id, details: { name: row.name, scope: row.scope } }, tx);
      return row;
    });
    await this.announce(rule);
    return rule;
  }

  private async writable(scope: Scope, principal: Principal, id: string): Promise<RuleRow> {
    const rule = await this.get(scope, id);
    if (rule.scope === 'global' && !principal.isSuperadmin) throw forbidden('only platform administrators may manage global rules');
    if (scope.siteIds && rule.scope === 'organization') throw forbidden('you are limited to some sites: organization rules are not yours to change');
    return rule;
  }

  /**
   * Changes a rule. A change to what it tests forgets the pending state of every device (a half-run duration
   * under the old threshold means nothing under the new one); so does a change to where it is in force
   * (enabled or disabled, pointed at other devices), for it and the rules of the same key (forgetAround).
   * Disabling it resolves its open alerts.
   */
  async update(scope: Scope, principal: Principal, id: string, patch: RulePatch, actor: Actor): Promise<RuleRow> {
    const current = await this.writable(scope, principal, id);
    if (patch.scope !== undefined && patch.scope !== current.scope) throw invalidFields([{ field: 'scope', message: 'cannot change; create a new rule instead' }]);
    const merged: RuleInput = { ...inputOf(current), ...patch };
    const checked = await this.check(scope, principal, merged);
    const testChanged = (['condition', 'metric', 'eventKind', 'operator', 'threshold', 'thresholdHigh', 'clearThreshold', 'clearThresholdHigh', 'textValue', 'durationSeconds', 'activeHours'] as const)
      .some((field) => patch[field] !== undefined);
    const rule = await this.ctx.db.transaction().execute(async (tx) => {
      const row = await rulesStore.updateRule(tx, id, checked);
      const forceChanged = (row.enabled || current.enabled) && (row.enabled !== current.enabled || row.site_id !== current.site_id
        || row.device_id !== current.device_id || row.device_kind !== current.device_kind || priorityKey(row) !== priorityKey(current));
      // In the same transaction: no process evaluates the changed rule with a state from before.
      if (forceChanged) await this.forgetAround(tx, current.org_id, [priorityKey(current), priorityKey(row)]);
      else if (testChanged) await evaluation.forgetStates(tx, [id]);
      await this.audit.record(actor, { orgId: current.org_id, action: 'alert_rule.updated', resourceType: 'alert_rule', resourceId: id, name: row?.name ?? current.name, details: { changes: patch } }, tx);
      return row;
    });
    if (current.enabled && !rule.enabled) await this.resolveOpenAlerts(id);
    await this.announce(rule);
    return rule;
  }

  /** Deletes a rule; its alerts stay as history (open ones are resolved first), with no rule. */
  async remove(scope: Scope, principal: Principal, id: string, actor: Actor): Promise<void> {
    const rule = await this.writable(scope, principal, id);
    await this.resolveOpenAlerts(id);
    await this.ctx.db.transaction().execute(async (tx) => {
      if (rule.enabled) await this.forgetAround(tx, rule.org_id, [priorityKey(rule)]);
      await rulesStore.deleteRule(tx, id);
      await this.audit.record(actor, { orgId: rule.org_id, action: 'alert_rule.deleted', resourceType: 'alert_rule', resourceId: id, details: { name: rule.name } }, tx);
    });
    await this.announce(rule);
  }

  /**
   * A rule that goes in or out of force for some devices (created, deleted, enabled, disabled, pointed at other
   * devices or another key) moves the rules it overrides, or is overridden by, out of or back into force there
   * (priority: rule-book.ts). What their states hold from before (a half-run duration, the last value a
   * "changes" rule compared) says nothing about the time between: the states of every rule of these keys are
   * forgotten, for the organization's devices (every device for a global rule), so each starts afresh, as a new
   * rule would. Some of those rules stay in force for some devices; for them a pending duration restarts.
   */
  private async forgetAround(tx: Tx, orgId: string | null, keys: string[]): Promise<void> {
    const affected = (await rulesStore.rulesReaching(tx, orgId)).filter((rule) => keys.includes(priorityKey(rule)));
    await evaluation.forgetStates(tx, affected.map((rule) => rule.id), orgId);
  }

  private async resolveOpenAlerts(ruleId: string): Promise<void> {
    for (const alert of await evaluation.openAlertsOfRule(this.ctx.db, ruleId)) {
      await this.transitions.inDevice(alert.device_id, (changes) => this.transitions.resolve(changes, [alert], 'rule_changed'));
    }
  }

  private announce(rule: RuleRow): Promise<void> {
    return this.ctx.bus.publish({ type: RULES_CHANGED, orgId: rule.org_id, requires: 'alertrule.read', data: { ruleId: rule.id } });
  }
}
