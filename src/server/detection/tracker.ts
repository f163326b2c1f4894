import { centre, iou, type Box } from './geometry.js';
import type { Detection } from './decode.js';

/**
 * Keeps the identity of each object across the frames the detector sees, so a violation belongs to one
 * person rather than to a spot of the picture. Matching is greedy: by overlap first, then, for what is left, by
 * the distance of centres (at one or two frames a second a walking person may have moved clear of their last box).
 * A track is confirmed after `minHits` sightings and forgotten after `maxMisses` detection runs without one.
 */
export interface TrackerOptions {
  /** Least IoU for a detection to continue a track. */
  iouThreshold: number;
  /** A detection whose centre lies within this many of the track's box diagonals may continue it. */
  maxCentreDistance: number;
  minHits: number;
  maxMisses: number;
  /** Scores kept per track; its smoothed score is their median. */
  scoreHistory: number;
}

export const DEFAULT_TRACKER: TrackerOptions = { iouThreshold: 0.3, maxCentreDistance: 0.75, minHits: 2, maxMisses: 5, scoreHistory: 10 };

export interface Track {
  id: number;
  classId: number;
  className: string;
  box: Box;
  /** The latest detection's own score. */
  score: number;
  scores: number[];
  /** Median of the recent scores: one unsure frame does not sink a track, one lucky frame does not make it. */
  smoothedScore: number;
  hits: number;
  /** Detection runs since it was last seen (0: seen in this one). */
  misses: number;
  confirmed: boolean;
  firstSeenAt: number;
  lastSeenAt: number;
}

export interface TrackerUpdate {
  /** Tracks alive after this frame (seen now, or missing for fewer than maxMisses runs). */
  active: Track[];
  /** Tracks forgotten in this frame. */
  removed: Track[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function diagonal(box: Box): number {
  return Math.hypot(box.x2 - box.x1, box.y2 - box.y1);
}

export class Tracker {
  private tracks: Track[] = [];
  private nextId = 1;

  constructor(private readonly options: TrackerOptions = DEFAULT_TRACKER) {}

  get activeTracks(): readonly Track[] {
    return this.tracks;
  }

  update(detections: readonly Detection[], ts: number): TrackerUpdate {
    const pairs: Array<{ track: Track; detection: Detection; cost: number; byOverlap: boolean }> = [];
    for (const track of this.tracks) {
      for (const detection of detections) {
        if (detection.classId !== track.classId) continue;
        const overlap = iou(track.box, detection.box);
        if (overlap >= this.options.iouThreshold) {
          pairs.push({ track, detection, cost: 1 - overlap, byOverlap: true });
          continue;
        }
        const a = centre(track.box);
        const b = centre(detection.box);
        const distance = Math.hypot(a.x - b.x, a.y - b.y) / Math.max(1, diagonal(track.box));
        if (distance <= this.options.maxCentreDistance) pairs.push({ track, detection, cost: 1 + distance, byOverlap: false });
      }
    }
    // Overlap matches (cost < 1) all come before distance matches (cost ≥ 1).
    pairs.sort((x, y) => x.cost - y.cost);
    const matchedTracks = new Set<Track>();
    const matchedDetections = new Set<Detection>();
    for (const { track, detection } of pairs) {
      if (matchedTracks.has(track) || matchedDetections.has(detection)) continue;
      matchedTracks.add(track);
      matchedDetections.add(detection);
      this.see(track, detection, ts);
    }
    const removed: Track[] = [];
    this.tracks = this.tracks.filter((track) => {
      if (matchedTracks.has(track)) return true;
      track.misses++;
      if (track.misses >= this.options.maxMisses) {
        removed.push(track);
        return false;
      }
      return true;
    });
    for (const detection of detections) {
      if (matchedDetections.has(detection)) continue;
      const track: Track = {
        id: this.nextId++,
        classId: detection.classId,
        className: detection.className,
        box: detection.box,
        score: detection.score,
        scores: [],
        smoothedScore: detection.score,
        hits: 0,
        misses: 0,
        confirmed: false,
        firstSeenAt: ts,
        lastSeenAt: ts,
      };
      this.see(track, detection, ts);
      this.tracks.push(track);
    }
    return { active: this.tracks, removed };
  }

  private see(track: Track, detection: Detection, ts: number): void {
    track.box = detection.box;
    track.score = detection.score;
    track.scores.push(detection.score);
    if (track.scores.length > this.options.scoreHistory) track.scores.shift();
    track.smoothedScore = median(track.scores);
    track.hits++;
    track.misses = 0;
    track.lastSeenAt = ts;
    if (track.hits >= this.options.minHits) track.confirmed = true;
  }
}
