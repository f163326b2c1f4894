import type { DevicePrincipal } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import type { EventPhotosService } from '../events/photos.js';
import type { IngestService } from '../ingest/service.js';
import { normalisedBox, violationEvidence } from './evidence.js';
import type { Incident, IncidentChange } from './rules.js';
import * as store from './store.js';

/**
 * Turns a camera's incidents into violation events. An incident becomes ONE event when it opens, written
 * through the ingest pipeline as the camera's device, so it reaches the live stream, the alert rules, the
 * hourly rollups and the audit trail like any device's event, within seconds of the person being seen.
 * Events are written once; what is known only later (the end, the frame count) goes to the `violations`
 * row keyed by the event id. The frame that opened the incident is the event's photo at once; a better
 * frame seen later (higher score, person not cut off) replaces it when the incident closes, the first
 * staying kept as a version of the photo.
 */
/** The detector's severities in Vigil's scale (critical, major, minor, warning, info). */
export const EVENT_SEVERITY: Record<Incident['severity'], 'critical' | 'major' | 'minor'> = { critical: 'critical', high: 'major', medium: 'minor' };

interface OpenViolation {
  eventId: number;
  /** The frame of the event's current photo, and a better one waiting for the close. */
  photoAt: number;
  best?: { at: number; jpeg: Buffer; incident: Incident };
}

export class ViolationRecorder {
  private readonly open = new Map<string, OpenViolation>();

  constructor(
    private readonly ctx: AppContext,
    private readonly ingest: IngestService,
    private readonly photos: EventPhotosService,
    private readonly device: DevicePrincipal,
    private readonly opened: (incident: Incident) => void,
  ) {}

  /** The changes of one frame, in order; `jpeg` is that frame (the picture of any new best snapshot). */
  async record(changes: readonly IncidentChange[], jpeg: Buffer | null): Promise<void> {
    for (const change of changes) {
      if (change.kind === 'open') await this.opening(change.incident, jpeg);
      else if (change.kind === 'update') this.improved(change, jpeg);
      else await this.closing(change.incident);
    }
  }

  private async opening(incident: Incident, jpeg: Buffer | null): Promise<void> {
    const evidence = jpeg ? await violationEvidence(jpeg, incident.box) : null;
    const box = evidence ? normalisedBox(incident.box, evidence.width, evidence.height) : null;
    const ts = new Date(incident.startedAt);
    const stored = await this.ingest.storeEvents(this.device, [{
      index: 0,
      ts,
      deviceTs: ts.toISOString(),
      // The incident's id: a retried write is the same event, never a second one.
      clientRef: `incident:${incident.id}`,
      kind: incident.eventType,
      speed: null,
      speedLimit: null,
      severity: EVENT_SEVERITY[incident.severity],
      attributes: {
        rule: incident.rule,
        trackId: incident.trackId,
        zone: incident.zoneName ?? null,
        box,
        confidence: Math.round(incident.confidence * 1000) / 1000,
        startedAt: ts.toISOString(),
        incidentId: incident.id,
        detectorSeverity: incident.severity,
      },
    }]);
    const event = stored.events[0];
    if (!event) throw new Error(`the violation event was refused: ${JSON.stringify(stored.rejected)}`);
    const eventId = Number(event.id);
    this.open.set(incident.id, { eventId, photoAt: incident.snapshot.at });
    this.opened(incident);
    await store.insertViolation(this.ctx.db, {
      eventId, orgId: this.device.orgId, cameraId: this.device.deviceId, siteId: this.device.siteId, incidentId: incident.id, rule: incident.rule,
      zone: incident.zoneName ?? null, startedAt: ts, lastSeenAt: new Date(incident.lastSeenAt), frames: incident.frames,
    });
    if (jpeg && evidence) await this.photos.attachServerPhoto(this.device, eventId, jpeg, evidence.thumbnail);
  }

  /** A better snapshot: kept in memory (one frame per open incident) until the incident closes. */
  private improved(change: IncidentChange, jpeg: Buffer | null): void {
    const open = this.open.get(change.incident.id);
    if (!open || !change.snapshotChanged || !jpeg) return;
    open.best = { at: change.incident.snapshot.at, jpeg, incident: change.incident };
  }

  private async closing(incident: Incident): Promise<void> {
    const open = this.open.get(incident.id);
    if (!open) return;
    this.open.delete(incident.id);
    const endedAt = new Date(incident.endedAt ?? incident.lastSeenAt);
    await store.closeViolation(this.ctx.db, open.eventId, { endedAt, lastSeenAt: new Date(incident.lastSeenAt), frames: incident.frames });
    if (open.best && open.best.at !== open.photoAt) {
      const evidence = await violationEvidence(open.best.jpeg, open.best.incident.snapshot.box);
      await this.photos.attachServerPhoto(this.device, open.eventId, open.best.jpeg, evidence.thumbnail, true);
    }
    await this.ctx.bus.publish({
      type: 'violation.ended', orgId: this.device.orgId, siteId: this.device.siteId, requires: 'event.read',
      data: { eventId: String(open.eventId), cameraId: this.device.deviceId, rule: incident.rule, endedAt: endedAt.toISOString() },
    });
  }
}
