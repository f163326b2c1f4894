import { boxArea, bottomCentre, containment, pointInPolygon, type Polygon } from './geometry.js';
import type { Detection } from './decode.js';
import type { Track } from './tracker.js';

/**
 * What the classes of a PPE model mean. A hard hat or a vest is not an object of its own but an attribute of
 * the person wearing it (Frigate's model of faces and licence plates): it belongs to the smallest person box
 * that holds it, so of two overlapping people the nearer, tighter box wins.
 */
export interface ClassRoles {
  person: number | undefined;
  hardhat: number | undefined;
  noHardhat: number | undefined;
  vest: number | undefined;
  noVest: number | undefined;
  /** Attributes worn on the head: they must sit in the top of the person box, not near the feet. */
  headClasses: ReadonlySet<number>;
  /** Every class that can be an attribute of a person. */
  attributeClasses: ReadonlySet<number>;
}

function find(names: readonly string[], ...candidates: string[]): number | undefined {
  const wanted = candidates.map((c) => c.toLowerCase());
  const index = names.findIndex((n) => wanted.includes(n.toLowerCase()));
  return index < 0 ? undefined : index;
}

export function classRoles(names: readonly string[]): ClassRoles {
  const roles = {
    person: find(names, 'Person'),
    hardhat: find(names, 'Hardhat', 'Hard hat', 'helmet'),
    noHardhat: find(names, 'NO-Hardhat', 'no_hardhat', 'head'),
    vest: find(names, 'Safety Vest', 'vest'),
    noVest: find(names, 'NO-Safety Vest', 'no_vest'),
  };
  const mask = find(names, 'Mask');
  const noMask = find(names, 'NO-Mask');
  const defined = (ids: Array<number | undefined>) => new Set(ids.filter((id): id is number => id !== undefined));
  return {
    ...roles,
    headClasses: defined([roles.hardhat, roles.noHardhat, mask, noMask]),
    attributeClasses: defined([roles.hardhat, roles.noHardhat, roles.vest, roles.noVest, mask, noMask]),
  };
}

export interface AttributeOptions {
  /** Share of an attribute's box that must lie inside the person's box (hats often poke out of the top). */
  minContainment: number;
  /** The top share of a person's box where head attributes (hats, masks) must have their centre. */
  headFraction: number;
}

export const DEFAULT_ATTRIBUTES: AttributeOptions = { minContainment: 0.6, headFraction: 0.3 };

/** Gives each attribute detection to the smallest person (seen in this frame) whose box holds it; returns attributes by track id. */
export function assignAttributes(persons: readonly Track[], attributes: readonly Detection[], roles: ClassRoles, options: AttributeOptions): Map<number, Detection[]> {
  const byTrack = new Map<number, Detection[]>();
  for (const attribute of attributes) {
    let owner: Track | undefined;
    for (const person of persons) {
      if (containment(person.box, attribute.box) < options.minContainment) continue;
      if (roles.headClasses.has(attribute.classId)) {
        const centreY = (attribute.box.y1 + attribute.box.y2) / 2;
        if (centreY > person.box.y1 + options.headFraction * (person.box.y2 - person.box.y1)) continue;
      }
      if (!owner || boxArea(person.box) < boxArea(owner.box)) owner = person;
    }
    if (!owner) continue;
    const list = byTrack.get(owner.id) ?? [];
    list.push(attribute);
    byTrack.set(owner.id, list);
  }
  return byTrack;
}

export interface DetectionFilter {
  frameWidth: number;
  frameHeight: number;
  /** Polygons (normalised) where nothing is detected: a poster of a worker, a mirror, the road beyond the fence. */
  masks: readonly Polygon[];
  /** Least area of a person box as a share of the frame (0–1); smaller ones are mostly noise at the far end. */
  minPersonArea: number;
  personClass: number | undefined;
}

/** Drops detections whose bottom centre lies in a mask, and persons too small to be real. */
export function filterDetections(detections: readonly Detection[], filter: DetectionFilter): Detection[] {
  const frameArea = filter.frameWidth * filter.frameHeight;
  return detections.filter((d) => {
    if (d.classId === filter.personClass && boxArea(d.box) < filter.minPersonArea * frameArea) return false;
    const foot = bottomCentre(d.box);
    const x = foot.x / filter.frameWidth;
    const y = foot.y / filter.frameHeight;
    return !filter.masks.some((mask) => pointInPolygon(x, y, mask));
  });
}
