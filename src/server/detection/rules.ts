import { randomUUID } from 'node:crypto';
import { bottomCentre, touchesEdge, pointInPolygon, type Box, type Polygon } from './geometry.js';
import type { ClassRoles } from './attributes.js';
import type { Detection } from './decode.js';
import type { Track } from './tracker.js';

/**
 * Safety rules over tracked people. A violation is an incident of one person and one rule: it opens once, after
 * the rule has held for a few detector frames in a row, is kept (not repeated) while it lasts, and closes when
 * the person leaves or has complied for the rule's cooldown; breaking the rule again within the cooldown
 * continues the same incident, so a hat taken off and put back on does not flood anyone's phone.
 */
export type RuleName = 'no_hardhat' | 'no_vest' | 'zone_breach';

export const RULE_SEVERITY: Record<RuleName, 'medium' | 'high' | 'critical'> = { no_hardhat: 'high', no_vest: 'medium', zone_breach: 'critical' };

export interface Zone {
  name: string;
  polygon: Polygon;
}

export interface RuleOptions {
  enabled: Record<RuleName, boolean>;
  /** Restricted areas; a person standing (bottom centre of the box) inside one breaches it. */
  zones: readonly Zone[];
  /** Detector frames in a row a PPE rule must hold before an incident opens, and not hold before it starts to clear. */
  ppeFrames: number;
  /** Zone inertia: frames in a row inside a zone before a breach opens, and outside before it starts to clear. */
  zoneFrames: number;
  /** How long a person must comply before their incident closes (ms); a relapse within it continues the incident. */
  cooldownMs: Record<RuleName, number>;
}

export const DEFAULT_RULES: RuleOptions = {
  enabled: { no_hardhat: true, no_vest: true, zone_breach: true },
  zones: [],
  ppeFrames: 3,
  zoneFrames: 3,
  cooldownMs: { no_hardhat: 30_000, no_vest: 30_000, zone_breach: 10_000 },
};

export interface Snapshot {
  /** Timestamp of the frame to keep as the incident's picture. */
  at: number;
  box: Box;
  score: number;
  touchesEdge: boolean;
}

export interface Incident {
  id: string;
  rule: RuleName;
  eventType: 'ppe_violation' | 'zone_breach';
  severity: 'medium' | 'high' | 'critical';
  trackId: number;
  /** The breached zone, or for PPE rules the zone the person stood in, if any. */
  zoneName?: string;
  startedAt: number;
  lastSeenAt: number;
  endedAt?: number;
  /** The person's box in the latest violating frame (original-frame pixels). */
  box: Box;
  /** The person's smoothed score in the best frame. */
  confidence: number;
  /** The best picture so far: highest smoothed score, preferring boxes clear of the frame's edge. */
  snapshot: Snapshot;
  /** Detector frames in which the rule was seen broken. */
  frames: number;
}

export interface IncidentChange {
  kind: 'open' | 'update' | 'close';
  /** A copy: later frames do not change what was handed out. */
  incident: Incident;
  /** True when this frame is the incident's new best picture: the caller keeps this frame's image. */
  snapshotChanged: boolean;
}

export interface FrameInfo {
  ts: number;
  width: number;
  height: number;
}

interface RuleState {
  trackId: number;
  rule: RuleName;
  zoneName?: string;
  breaking: number;
  complying: number;
  /** The first frame of the current run of complying frames. */
  complyingSince?: number;
  incident?: Incident;
  /** When the person began to comply with an open incident's rule (the cooldown runs from here). */
  clearingSince?: number;
}

type Evidence = boolean | undefined;

function best(attributes: readonly Detection[], classId: number | undefined): Detection | undefined {
  if (classId === undefined) return undefined;
  let top: Detection | undefined;
  for (const a of attributes) if (a.classId === classId && (!top || a.score > top.score)) top = a;
  return top;
}

/**
 * Whether a person breaks a PPE rule in this frame. Two model styles: one that sees the missing item
 * (NO-Hardhat), and one that only sees the item (Hardhat), where a person without it breaks the rule.
 * Undefined: the model cannot tell.
 */
function lacks(attributes: readonly Detection[], present: number | undefined, missing: number | undefined): Evidence {
  const has = best(attributes, present);
  const hasNot = best(attributes, missing);
  if (hasNot && (!has || hasNot.score >= has.score)) return true;
  if (has) return false;
  if (missing !== undefined) return false;
  if (present !== undefined) return true;
  return undefined;
}

export class RuleEngine {
  private readonly states = new Map<string, RuleState>();

  constructor(
    private readonly options: RuleOptions,
    private readonly roles: ClassRoles,
  ) {}

  /** Rules the model's classes can serve (a model without hard-hat classes cannot judge hard hats). */
  get activeRules(): RuleName[] {
    const { enabled, zones } = this.options;
    const rules: RuleName[] = [];
    if (enabled.no_hardhat && (this.roles.hardhat !== undefined || this.roles.noHardhat !== undefined)) rules.push('no_hardhat');
    if (enabled.no_vest && (this.roles.vest !== undefined || this.roles.noVest !== undefined)) rules.push('no_vest');
    if (enabled.zone_breach && zones.length > 0) rules.push('zone_breach');
    return rules;
  }

  get openIncidents(): Incident[] {
    return [...this.states.values()].flatMap((s) => (s.incident ? [{ ...s.incident }] : []));
  }

  /**
   * One detector frame: `persons` are the tracker's active person tracks, `attributes` what was assigned to
   * each, `removed` the tracks forgotten in this frame.
   */
  evaluate(frame: FrameInfo, persons: readonly Track[], attributes: ReadonlyMap<number, readonly Detection[]>, removed: readonly Track[]): IncidentChange[] {
    const changes: IncidentChange[] = [];
    const rules = this.activeRules;
    for (const person of persons) {
      // Unconfirmed tracks are judged too, so their frames count; only a confirmed one opens an incident.
      if (person.misses > 0) continue;
      const foot = bottomCentre(person.box);
      const inZone = (zone: Zone) => pointInPolygon(foot.x / frame.width, foot.y / frame.height, zone.polygon);
      const standingIn = this.options.zones.find(inZone)?.name;
      const worn = attributes.get(person.id) ?? [];
      for (const rule of rules) {
        if (rule === 'zone_breach') {
          for (const zone of this.options.zones) this.judge(frame, person, rule, zone.name, inZone(zone), changes);
        } else {
          const evidence = rule === 'no_hardhat' ? lacks(worn, this.roles.hardhat, this.roles.noHardhat) : lacks(worn, this.roles.vest, this.roles.noVest);
          if (evidence !== undefined) this.judge(frame, person, rule, standingIn, evidence, changes);
        }
      }
    }
    const gone = new Set(removed.map((t) => t.id));
    for (const [key, state] of this.states) {
      if (gone.has(state.trackId)) {
        if (state.incident) changes.push(this.close(state, state.clearingSince ?? state.incident.lastSeenAt));
        this.states.delete(key);
      } else if (state.incident && state.clearingSince !== undefined && frame.ts - state.clearingSince >= this.options.cooldownMs[state.rule]) {
        changes.push(this.close(state, state.clearingSince));
        this.states.delete(key);
      }
    }
    return changes;
  }

  /** Everything still open is closed (the camera stops, or its settings change). */
  closeAll(ts: number): IncidentChange[] {
    const changes = [...this.states.values()].flatMap((s) => (s.incident ? [this.close(s, s.clearingSince ?? ts)] : []));
    this.states.clear();
    return changes;
  }

  private judge(frame: FrameInfo, person: Track, rule: RuleName, zoneName: string | undefined, breaking: boolean, changes: IncidentChange[]): void {
    const key = rule === 'zone_breach' ? `${person.id}:${rule}:${zoneName}` : `${person.id}:${rule}`;
    let state = this.states.get(key);
    if (!state) {
      if (!breaking) return;
      state = { trackId: person.id, rule, zoneName: rule === 'zone_breach' ? zoneName : undefined, breaking: 0, complying: 0 };
      this.states.set(key, state);
    }
    const needed = rule === 'zone_breach' ? this.options.zoneFrames : this.options.ppeFrames;
    if (!breaking) {
      state.breaking = 0;
      if (state.complying++ === 0) state.complyingSince = frame.ts;
      if (!state.incident) this.states.delete(key);
      else if (state.clearingSince === undefined && state.complying >= needed) state.clearingSince = state.complyingSince;
      return;
    }
    state.complying = 0;
    state.clearingSince = undefined;
    state.breaking++;
    const snapshot: Snapshot = { at: frame.ts, box: person.box, score: person.smoothedScore, touchesEdge: touchesEdge(person.box, frame.width, frame.height) };
    if (!state.incident) {
      if (state.breaking < needed || !person.confirmed) return;
      state.incident = {
        id: randomUUID(),
        rule,
        eventType: rule === 'zone_breach' ? 'zone_breach' : 'ppe_violation',
        severity: RULE_SEVERITY[rule],
        trackId: person.id,
        ...(zoneName !== undefined && { zoneName }),
        startedAt: frame.ts,
        lastSeenAt: frame.ts,
        box: person.box,
        confidence: snapshot.score,
        snapshot,
        frames: state.breaking,
      };
      changes.push({ kind: 'open', incident: { ...state.incident }, snapshotChanged: true });
      return;
    }
    const incident = state.incident;
    incident.lastSeenAt = frame.ts;
    incident.box = person.box;
    incident.frames++;
    if (better(snapshot, incident.snapshot)) {
      incident.snapshot = snapshot;
      incident.confidence = snapshot.score;
      changes.push({ kind: 'update', incident: { ...incident }, snapshotChanged: true });
    }
  }

  private close(state: RuleState, endedAt: number): IncidentChange {
    const incident = { ...state.incident!, endedAt };
    state.incident = undefined;
    return { kind: 'close', incident, snapshotChanged: false };
  }
}

/** A whole person beats a cut-off one; between equals, the higher smoothed score wins. */
function better(candidate: Snapshot, current: Snapshot): boolean {
  if (candidate.touchesEdge !== current.touchesEdge) return !candidate.touchesEdge;
  return candidate.score > current.score;
}
