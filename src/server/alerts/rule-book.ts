import type { Bus, BusMessage } from '../core/bus.js';
import type { Db } from '../core/db/database.js';
import { priorityKey, SCOPE_PRIORITY, type RuleRow } from './rule-model.js';
import * as rulesStore from './rules-store.js';

/** The device a rule is applied to. */
export interface RuleTarget {
  id: string;
  orgId: string;
  siteId: string | null;
  kind: string;
}

/** Announced (to every process) whenever a rule is created, changed or deleted. */
export const RULES_CHANGED = 'alert_rule.changed';

const TTL_MS = 60_000;
/** How often, at most, a process asks the database whether rules changed (only while it evaluates data). */
export const VERSION_CHECK_MS = 1000;
const MAX_MEMO = 10_000;

interface OrgRules {
  rules: RuleRow[];
  loadedAt: number;
  /** Effective rules per device (and site, so a device that moves is recomputed). */
  byDevice: Map<string, RuleRow[]>;
}

export function applies(rule: RuleRow, device: RuleTarget): boolean {
  if (rule.device_kind !== null && rule.device_kind !== device.kind) return false;
  switch (rule.scope) {
    case 'global': return true;
    case 'organization': return rule.org_id === device.orgId;
    case 'site': return rule.site_id !== null && rule.site_id === device.siteId;
    case 'device': return rule.device_id === device.id;
  }
}

/**
 * Priority: among the rules that apply to a device, for each key (metric, event field, silence) only
 * those at the most specific scope present count: device > site > organization > global. Several
 * rules at that scope (a warning at > 5, a critical at > 8) all apply.
 */
export function rank(rules: RuleRow[]): { rule: RuleRow; priority: number; shadowed: boolean }[] {
  const best = new Map<string, number>();
  for (const rule of rules) {
    if (!rule.enabled) continue;
    const key = priorityKey(rule);
    best.set(key, Math.min(best.get(key) ?? Infinity, SCOPE_PRIORITY[rule.scope]));
  }
  return rules
    .map((rule) => ({ rule, priority: SCOPE_PRIORITY[rule.scope], shadowed: !rule.enabled || best.get(priorityKey(rule)) !== SCOPE_PRIORITY[rule.scope] }))
    .sort((a, b) => a.priority - b.priority || a.rule.name.localeCompare(b.rule.name));
}

/**
 * The enabled rules per organization, held in memory so that evaluating a batch costs no query when
 * nothing applies. A rule change drops the organization's entry (a global rule's change drops all):
 * at once in the process that made it and, through the bus, in every process when Redis connects them.
 * Without Redis, each process learns of other processes' changes from the rule versions a trigger
 * records in the database, read at most once a second while it evaluates data (one indexed query).
 * The TTL only bounds staleness should both fail.
 */
export class RuleBook {
  private readonly orgs = new Map<string | null, OrgRules>();
  private generation = 0;
  private seenVersion: number | null = null;
  private checkedAt = 0;
  private checking: Promise<void> | null = null;

  constructor(private readonly db: Db, bus: Bus) {
    bus.subscribe((message) => this.apply(message));
  }

  private drop(orgId: string | null): void {
    this.generation += 1;
    if (orgId === null) this.orgs.clear();
    else this.orgs.delete(orgId);
  }

  /** Drops the organizations whose rules changed since the last check (shared by concurrent callers). */
  private async checkVersions(): Promise<void> {
    if (Date.now() - this.checkedAt < VERSION_CHECK_MS) return;
    this.checking ??= (async () => {
      try {
        if (this.seenVersion === null) {
          this.seenVersion = await rulesStore.latestRuleVersion(this.db);
          return;
        }
        for (const { scope_key: key, version } of await rulesStore.ruleVersionsAfter(this.db, this.seenVersion)) {
          if (key === '*') this.seenVersion = Math.max(this.seenVersion, version);
          else this.drop(key === 'global' ? null : key);
        }
      } finally {
        this.checkedAt = Date.now();
        this.checking = null;
      }
    })();
    await this.checking;
  }

  private apply(message: BusMessage): void {
    if (message.type === RULES_CHANGED) {
      this.drop(message.orgId);
    } else if (message.type === 'device.updated' || message.type === 'device.deleted') {
      this.orgs.get(message.orgId)?.byDevice.clear();
    }
  }

  private async load(orgId: string | null): Promise<OrgRules> {
    const cached = this.orgs.get(orgId);
    if (cached && Date.now() - cached.loadedAt < TTL_MS) return cached;
    const generation = this.generation;
    const entry: OrgRules = { rules: await rulesStore.enabledRules(this.db, orgId), loadedAt: Date.now(), byDevice: new Map() };
    // A change announced while loading may not be in what was read: use it once, do not keep it.
    if (generation === this.generation) this.orgs.set(orgId, entry);
    return entry;
  }

  /** The enabled rules in force for a device after priority (cached). */
  async effective(device: RuleTarget): Promise<RuleRow[]> {
    await this.checkVersions();
    const [org, global] = await Promise.all([this.load(device.orgId), this.load(null)]);
    const memoKey = `${device.id}|${device.siteId ?? ''}|${device.kind}|${global.loadedAt}`;
    const memo = org.byDevice.get(memoKey);
    if (memo) return memo;
    const candidates = [...org.rules, ...global.rules].filter((rule) => applies(rule, device));
    const result = rank(candidates).filter((r) => !r.shadowed).map((r) => r.rule);
    if (org.byDevice.size >= MAX_MEMO) org.byDevice.clear();
    org.byDevice.set(memoKey, result);
    return result;
  }
}
