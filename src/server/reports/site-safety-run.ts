import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { csvText } from '../core/csv.js';
import { thumbnailKey } from '../events/photos.js';
import type { OrganizationsService } from '../organizations/service.js';
import type { SitesService } from '../sites/service.js';
import type { ReportParameters } from './runner.js';
import { MAX_THUMBNAILS, renderSiteSafetyPdf, siteSafetyCsv, type SiteSafetyReport } from './site-safety.js';
import * as store from './site-safety-store.js';
import type { ReportRow } from './store.js';

/** Violations listed at most (PDF table and CSV); the summary counts every one. */
const MAX_LISTED = 10_000;

/**
 * Reads a site-safety report's figures with the requester's view and draws its PDF and CSV: the violations
 * of cameras in the organization, a site or one camera, their acknowledgement, and frames analysed.
 */
export async function siteSafetyFiles(
  ctx: AppContext,
  services: { organizations: OrganizationsService; sites: SitesService },
  report: ReportRow,
  scope: Scope,
  progress: (percent: number) => Promise<void>,
): Promise<{ pdf: Buffer; csv: Buffer }> {
  const p = report.parameters as unknown as ReportParameters;
  const subject = { deviceId: p.deviceId, siteId: p.siteId };
  const from = new Date(p.from);
  const to = new Date(p.to);
  const org = await services.organizations.get(report.org_id);
  // A report's data reads the replica (at most the lag threshold behind).
  const cameras = await store.safetyCameras(ctx.replica.db, scope, subject);
  const site = p.siteId ? await services.sites.get(scope, p.siteId) : null;
  const timezone = site?.timezone ?? (p.deviceId ? cameras[0]?.timezone : undefined) ?? org.timezone;
  const counts = await store.violationCounts(ctx.replica.db, scope, subject, from, to);
  const medianSecondsToAcknowledge = await store.medianSecondsToAcknowledge(ctx.replica.db, scope, subject, from, to);
  const frames = cameras.length ? await store.framesAnalysed(ctx.replica.db, scope, cameras.map((c) => c.id), from, to) : [];
  await progress(20);
  const violations = await store.periodViolations(ctx.replica.db, scope, subject, from, to, MAX_LISTED);
  await progress(40);

  const withPhoto = violations.filter((v) => v.photo_key);
  const thumbnails = new Map<string, Buffer>();
  for (const [i, v] of withPhoto.slice(0, MAX_THUMBNAILS).entries()) {
    const jpeg = await thumbnail(ctx, v.photo_key!);
    if (jpeg) thumbnails.set(v.id, jpeg);
    await progress(40 + ((i + 1) / Math.min(withPhoto.length, MAX_THUMBNAILS)) * 40);
  }

  const sites = [...new Set(cameras.map((c) => c.site_name).filter((name): name is string => name !== null))];
  const camera = p.deviceId ? cameras[0] : undefined;
  const result: SiteSafetyReport = {
    title: report.title, organization: org.name,
    subject: site ? site.name : camera ? `${camera.name} (serial ${camera.serial})` : `${org.name}, all sites`,
    sites: site ? [site.name] : sites, timezone, from, to, generatedAt: new Date(), requestedBy: report.requested_by_label, locale: org.locale,
    cameras, counts, medianSecondsToAcknowledge, frames, violations, thumbnails,
    photosNotShown: Math.max(0, withPhoto.length - thumbnails.size),
  };
  const pdf = await renderSiteSafetyPdf(result);
  await progress(95);
  return { pdf, csv: Buffer.from(csvText(siteSafetyCsv(result))) };
}

/** The violation's padded crop, stored beside its photo; a missing or unreadable one is left out. */
async function thumbnail(ctx: AppContext, photoKey: string): Promise<Buffer | null> {
  try {
    const jpeg = await ctx.media.get(thumbnailKey(photoKey));
    // pdfkit throws on bytes that are not a JPEG, which would fail the whole report.
    return jpeg && jpeg[0] === 0xff && jpeg[1] === 0xd8 ? jpeg : null;
  } catch (error) {
    ctx.logger.warn({ err: error, key: photoKey }, 'report: thumbnail unreadable, left out');
    return null;
  }
}
