import { assignAttributes, classRoles, DEFAULT_ATTRIBUTES, filterDetections, type AttributeOptions, type ClassRoles } from './attributes.js';
import type { Detection } from './decode.js';
import type { Polygon } from './geometry.js';
import { DEFAULT_RULES, RuleEngine, type FrameInfo, type Incident, type IncidentChange, type RuleName, type RuleOptions } from './rules.js';
import { DEFAULT_TRACKER, Tracker, type Track, type TrackerOptions } from './tracker.js';

/**
 * What happens in one camera's picture over time, from the detections of each detector frame: masked and
 * too-small detections are dropped, people are tracked, hats and vests are given to the people wearing them,
 * and the rules turn that into incidents. No pixels and no model here, so it is tested with hand-made boxes.
 */
export interface SceneOptions {
  /** Normalised polygons where detections are ignored. */
  masks?: readonly Polygon[];
  /** Least person box as a share of the frame (0–1). */
  minPersonArea?: number;
  tracker?: Partial<TrackerOptions>;
  attributes?: Partial<AttributeOptions>;
  rules?: Partial<RuleOptions>;
}

export interface SceneStep {
  /** Detections left after masks and the minimum size. */
  detections: Detection[];
  /** Person tracks alive after this frame (copies). */
  persons: Track[];
  changes: IncidentChange[];
}

export class Scene {
  readonly roles: ClassRoles;
  private readonly tracker: Tracker;
  private readonly rules: RuleEngine;
  private readonly attributeOptions: AttributeOptions;

  constructor(
    classNames: readonly string[],
    private readonly options: SceneOptions = {},
  ) {
    this.roles = classRoles(classNames);
    this.tracker = new Tracker({ ...DEFAULT_TRACKER, ...options.tracker });
    this.rules = new RuleEngine({ ...DEFAULT_RULES, ...options.rules }, this.roles);
    this.attributeOptions = { ...DEFAULT_ATTRIBUTES, ...options.attributes };
  }

  get activeRules(): RuleName[] {
    return this.rules.activeRules;
  }

  get tracking(): boolean {
    return this.tracker.activeTracks.length > 0;
  }

  get openIncidents(): Incident[] {
    return this.rules.openIncidents;
  }

  step(frame: FrameInfo, found: readonly Detection[]): SceneStep {
    const detections = filterDetections(found, {
      frameWidth: frame.width,
      frameHeight: frame.height,
      masks: this.options.masks ?? [],
      minPersonArea: this.options.minPersonArea ?? 0.001,
      personClass: this.roles.person,
    });
    const update = this.tracker.update(detections.filter((d) => d.classId === this.roles.person), frame.ts);
    const seen = update.active.filter((t) => t.misses === 0);
    const worn = assignAttributes(seen, detections.filter((d) => this.roles.attributeClasses.has(d.classId)), this.roles, this.attributeOptions);
    const changes = this.rules.evaluate(frame, update.active, worn, update.removed);
    return { detections, persons: update.active.map((t) => ({ ...t, scores: [...t.scores] })), changes };
  }

  closeAll(ts: number): IncidentChange[] {
    return this.rules.closeAll(ts);
  }
}
