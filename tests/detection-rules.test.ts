import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Detection } from '../src/server/detection/decode.js';
import type { Box } from '../src/server/detection/geometry.js';
import type { IncidentChange, RuleOptions } from '../src/server/detection/rules.js';
import { Scene, type SceneOptions } from '../src/server/detection/scene.js';
import { Tracker } from '../src/server/detection/tracker.js';
import { PPE_CLASSES } from './helpers/onnx-models.js';

/**
 * Tracking and the safety rules over hand-made detections, one detector frame a second on a 1280×720 picture:
 * a violation is one incident per person and rule, however many frames it lasts.
 */
const W = 1280;
const H = 720;
const SECOND = 1000;

const det = (className: string, box: Box, score = 0.85, names: readonly string[] = PPE_CLASSES): Detection => ({ classId: names.indexOf(className), className, score, box });

/** A person standing at x, with a hat, a bare head, a vest or none of them. */
function worker(x: number, wearing: { hat?: boolean; bareHead?: boolean; vest?: boolean; noVest?: boolean } = {}, y = 200, score = 0.85): Detection[] {
  const body = { x1: x, y1: y, x2: x + 100, y2: y + 300 };
  const out = [det('Person', body, score)];
  const head = { x1: x + 30, y1: y - 5, x2: x + 70, y2: y + 35 };
  if (wearing.hat) out.push(det('Hardhat', head));
  if (wearing.bareHead) out.push(det('NO-Hardhat', head));
  if (wearing.vest) out.push(det('Safety Vest', { x1: x + 10, y1: y + 80, x2: x + 90, y2: y + 180 }));
  if (wearing.noVest) out.push(det('NO-Safety Vest', { x1: x + 10, y1: y + 80, x2: x + 90, y2: y + 180 }));
  return out;
}

function rules(overrides: Partial<RuleOptions> = {}): Partial<RuleOptions> {
  return { cooldownMs: { no_hardhat: 10 * SECOND, no_vest: 10 * SECOND, zone_breach: 5 * SECOND }, ...overrides };
}

/** Runs frames one second apart from `start`; returns every incident change. */
function run(scene: Scene, frames: Detection[][], start = 0): IncidentChange[] {
  return frames.flatMap((found, i) => scene.step({ ts: start + i * SECOND, width: W, height: H }, found).changes);
}

const kinds = (changes: IncidentChange[]) => changes.map((c) => `${c.kind}:${c.incident.rule}`);
const repeat = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

describe('tracker', () => {
  it('keeps one identity for a person walking across, and gives a newcomer a new one', () => {
    const tracker = new Tracker();
    const ids = repeat(10, (i) => tracker.update([det('Person', { x1: 100 + i * 40, y1: 200, x2: 200 + i * 40, y2: 500 })], i * SECOND).active.map((t) => t.id));
    assert.deepEqual(new Set(ids.flat()), new Set([1]));
    const both = tracker.update([det('Person', { x1: 500, y1: 200, x2: 600, y2: 500 }), det('Person', { x1: 1000, y1: 100, x2: 1100, y2: 400 })], 10 * SECOND);
    assert.deepEqual(both.active.map((t) => t.id).sort(), [1, 2]);
  });

  it('confirms after min hits, forgets after max misses, and smooths scores by median', () => {
    const tracker = new Tracker({ iouThreshold: 0.3, maxCentreDistance: 0.75, minHits: 2, maxMisses: 3, scoreHistory: 5 });
    const box = { x1: 100, y1: 100, x2: 200, y2: 400 };
    assert.equal(tracker.update([det('Person', box, 0.9)], 0).active[0]!.confirmed, false);
    tracker.update([det('Person', box, 0.2)], 1);
    const third = tracker.update([det('Person', box, 0.8)], 2).active[0]!;
    assert.equal(third.confirmed, true);
    assert.equal(third.smoothedScore, 0.8);
    assert.equal(tracker.update([], 3).removed.length, 0);
    assert.equal(tracker.update([], 4).removed.length, 0);
    assert.deepEqual(tracker.update([], 5).removed.map((t) => t.id), [1]);
  });
});

describe('safety rules', () => {
  it('a person without a hard hat for 100 frames is one violation, not 100; putting the hat on ends it', () => {
    const scene = new Scene(PPE_CLASSES, { rules: rules() });
    const bare = run(scene, repeat(100, () => worker(300, { bareHead: true, vest: true })));
    assert.deepEqual(kinds(bare), ['open:no_hardhat']);
    const open = bare[0]!.incident;
    assert.equal(open.severity, 'high');
    assert.equal(open.eventType, 'ppe_violation');
    assert.equal(open.startedAt, 2 * SECOND, 'opens on the third frame in a row');
    assert.deepEqual(scene.openIncidents.map((i) => [i.id, i.frames]), [[open.id, 100]]);

    const hatOn = run(scene, repeat(20, () => worker(300, { hat: true, vest: true })), 100 * SECOND);
    assert.deepEqual(kinds(hatOn), ['close:no_hardhat']);
    const closed = hatOn[0]!.incident;
    assert.equal(closed.id, open.id);
    assert.equal(closed.endedAt, 100 * SECOND, 'ended when the hat went on');
    assert.equal(closed.trackId, open.trackId);
    assert.deepEqual(scene.openIncidents, []);
  });

  it('taking the hat off and on within the cooldown does not flap: one incident', () => {
    const scene = new Scene(PPE_CLASSES, { rules: rules() });
    const frames = [...repeat(5, () => worker(300, { bareHead: true })), ...repeat(4, () => worker(300, { hat: true })), ...repeat(5, () => worker(300, { bareHead: true })), ...repeat(4, () => worker(300, { hat: true }))];
    assert.deepEqual(kinds(run(scene, frames)), ['open:no_hardhat']);
    assert.deepEqual(kinds(run(scene, repeat(15, () => worker(300, { hat: true })), 18 * SECOND)), ['close:no_hardhat']);
  });

  it('one frame without a hat (a turned head) opens nothing', () => {
    const scene = new Scene(PPE_CLASSES, { rules: rules() });
    const frames = repeat(30, (i) => worker(300, i % 5 === 2 ? { bareHead: true } : { hat: true }));
    assert.deepEqual(run(scene, frames), []);
  });

  it('a model that only knows hard hats: a person without one breaks the rule', () => {
    const names = ['Person', 'Hardhat'];
    const scene = new Scene(names, { rules: rules() });
    const person = (hat: boolean) => [det('Person', { x1: 300, y1: 200, x2: 400, y2: 500 }, 0.9, names), ...(hat ? [det('Hardhat', { x1: 330, y1: 195, x2: 370, y2: 235 }, 0.8, names)] : [])];
    assert.deepEqual(kinds(run(scene, repeat(10, () => person(false)))), ['open:no_hardhat']);
    assert.deepEqual(scene.activeRules, ['no_hardhat']);
    assert.deepEqual(kinds(run(scene, repeat(15, () => person(true)), 10 * SECOND)), ['close:no_hardhat']);
  });

  it('no vest is its own incident (medium), and the person leaving closes everything open', () => {
    const scene = new Scene(PPE_CLASSES, { rules: rules(), tracker: { maxMisses: 3 } });
    const opened = run(scene, repeat(5, () => worker(300, { bareHead: true, noVest: true })));
    assert.deepEqual(kinds(opened).sort(), ['open:no_hardhat', 'open:no_vest']);
    assert.equal(opened.find((c) => c.incident.rule === 'no_vest')!.incident.severity, 'medium');
    const left = run(scene, repeat(3, () => []), 5 * SECOND);
    assert.deepEqual(kinds(left).sort(), ['close:no_hardhat', 'close:no_vest']);
    assert.ok(left.every((c) => c.incident.endedAt === 4 * SECOND), 'ended when last seen');
  });

  it('two people: each violation belongs to its own track', () => {
    const scene = new Scene(PPE_CLASSES, { rules: rules() });
    const changes = run(scene, repeat(10, () => [...worker(200, { bareHead: true }), ...worker(800, { hat: true })]));
    assert.deepEqual(kinds(changes), ['open:no_hardhat']);
    assert.equal(changes[0]!.incident.box.x1, 200);
  });

  it('a lone bare-head box without a person opens nothing', () => {
    const scene = new Scene(PPE_CLASSES, { rules: rules() });
    assert.deepEqual(run(scene, repeat(10, () => [det('NO-Hardhat', { x1: 300, y1: 200, x2: 340, y2: 240 })])), []);
  });

  it('the best snapshot is the highest smoothed score whose box does not touch the frame edge', () => {
    const scene = new Scene(PPE_CLASSES, { rules: rules() });
    // At the left edge with a high score first, then fully inside with lower, then rising scores.
    const frames = [
      ...repeat(4, () => worker(0, { bareHead: true }, 200, 0.95)),
      ...repeat(4, () => worker(40, { bareHead: true }, 200, 0.6)),
      ...repeat(6, () => worker(40, { bareHead: true }, 200, 0.9)),
    ];
    const steps = frames.map((found, i) => scene.step({ ts: i * SECOND, width: W, height: H }, found));
    const changes = steps.flatMap((s) => s.changes);
    const last = changes.at(-1)!.incident;
    assert.equal(changes[0]!.incident.snapshot.touchesEdge, true);
    assert.equal(last.snapshot.touchesEdge, false);
    assert.equal(last.snapshot.box.x1, 40);
    const bestInside = Math.max(...steps.slice(4).map((s) => s.persons[0]!.smoothedScore));
    assert.equal(last.confidence, bestInside);
    assert.equal(last.snapshot.at, (4 + steps.slice(4).findIndex((s) => s.persons[0]!.smoothedScore === bestInside)) * SECOND);
    assert.ok(changes.filter((c) => c.kind === 'update').every((c) => c.snapshotChanged));
    assert.ok(changes.length < 8, `only better pictures are reported, not every frame (${changes.length})`);
  });

  it('zone breach needs N frames in a row inside: crossing the edge briefly opens nothing', () => {
    const zone = { name: 'Crane area', polygon: [[0.5, 0], [1, 0], [1, 1], [0.5, 1]] as Array<[number, number]> };
    const scene = new Scene(PPE_CLASSES, { rules: rules({ zones: [zone], zoneFrames: 4, enabled: { no_hardhat: false, no_vest: false, zone_breach: true } }) });
    // Feet at x = 650 (inside, from 640) for 3 frames, then back out.
    const brief = [...repeat(3, () => worker(500, { hat: true })), ...repeat(3, () => worker(600, { hat: true })), ...repeat(3, () => worker(500, { hat: true }))];
    assert.deepEqual(run(scene, brief), []);
    const stays = run(scene, repeat(6, () => worker(600, { hat: true })), 9 * SECOND);
    assert.deepEqual(kinds(stays), ['open:zone_breach']);
    assert.equal(stays[0]!.incident.zoneName, 'Crane area');
    assert.equal(stays[0]!.incident.severity, 'critical');
    assert.equal(stays[0]!.incident.eventType, 'zone_breach');
    assert.equal(stays[0]!.incident.startedAt, 12 * SECOND);
  });

  it('masks hide detections standing in them, and persons below the minimum size are ignored', () => {
    const options: SceneOptions = {
      rules: rules(),
      masks: [[[0, 0], [0.3, 0], [0.3, 1], [0, 1]]],
      minPersonArea: 0.01,
    };
    const scene = new Scene(PPE_CLASSES, options);
    const masked = repeat(10, () => worker(100, { bareHead: true }));
    const tiny = repeat(10, () => [det('Person', { x1: 800, y1: 300, x2: 820, y2: 340 }), det('NO-Hardhat', { x1: 805, y1: 300, x2: 815, y2: 310 })]);
    const results = [...masked, ...tiny].map((found, i) => scene.step({ ts: i * SECOND, width: W, height: H }, found));
    assert.deepEqual(results.flatMap((r) => r.changes), []);
    assert.deepEqual(results[0]!.detections, []);
    // The same person outside the mask is judged.
    assert.deepEqual(kinds(run(scene, repeat(5, () => worker(600, { bareHead: true })), 20 * SECOND)), ['open:no_hardhat']);
  });
});
