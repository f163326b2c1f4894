import type { AlertRow } from './evaluation-store.js';
import type { RuleRow } from './rule-model.js';

/** The API shapes of rules and alerts (also the payload of bus messages and webhooks). */
export function presentAlert(alert: AlertRow) {
  return {
    id: alert.id,
    deviceId: alert.device_id,
    siteId: alert.site_id,
    ruleId: alert.rule_id,
    ruleName: alert.rule_name,
    condition: alert.condition,
    metric: alert.metric,
    severity: alert.severity,
    status: alert.status,
    message: alert.message,
    threshold: alert.threshold,
    firstValue: alert.first_value,
    latestValue: alert.latest_value,
    peakValue: alert.peak_value,
    firstText: alert.first_text,
    latestText: alert.latest_text,
    previousText: alert.previous_text,
    breachCount: alert.breach_count,
    startedAt: alert.started_at.toISOString(),
    openedAt: alert.opened_at.toISOString(),
    lastBreachAt: alert.last_breach_at.toISOString(),
    acknowledgedAt: alert.acknowledged_at?.toISOString() ?? null,
    acknowledgedBy: alert.acknowledged_by,
    acknowledgeComment: alert.acknowledge_comment,
    resolveComment: alert.resolve_comment,
    resolvedAt: alert.resolved_at?.toISOString() ?? null,
    resolvedBy: alert.resolved_by,
    resolution: alert.resolution,
  };
}

export type PresentedAlert = ReturnType<typeof presentAlert>;

export function presentRule(rule: RuleRow) {
  return {
    id: rule.id,
    scope: rule.scope,
    siteId: rule.site_id,
    deviceId: rule.device_id,
    deviceKind: rule.device_kind,
    name: rule.name,
    description: rule.description,
    condition: rule.condition,
    metric: rule.metric,
    eventKind: rule.event_kind,
    operator: rule.operator,
    threshold: rule.threshold,
    thresholdHigh: rule.threshold_high,
    clearThreshold: rule.clear_threshold,
    clearThresholdHigh: rule.clear_threshold_high,
    textValue: rule.text_value,
    durationSeconds: rule.duration_seconds,
    severity: rule.severity,
    messageTemplate: rule.message_template,
    activeHours: rule.active_hours,
    enabled: rule.enabled,
    autoResolve: rule.auto_resolve,
    channelIds: rule.channel_ids,
    escalateAfterMinutes: rule.escalate_after_minutes,
    createdAt: rule.created_at.toISOString(),
    updatedAt: rule.updated_at.toISOString(),
  };
}
