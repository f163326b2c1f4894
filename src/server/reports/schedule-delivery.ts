import type { AppContext } from '../core/context.js';
import { AppError, notFound } from '../core/http/errors.js';
import { unseal } from '../core/secret-box.js';
import { hmac, safeEqual } from '../core/tokens.js';
import { postSignedWebhook } from '../alerts/webhook.js';
import { formatDayRange } from '../../shared/format.js';
import { localDate } from '../traffic/range.js';
import { cadenceOf, latestDueRun, nextRun, periodOf } from './cadence.js';
import { fileStemOf } from './naming.js';
import * as store from './schedule-store.js';
import type { ReportsService } from './service.js';

const DUE_BATCH = 20;
const LEASE_SECONDS = 120;
/** A delivery that fails is tried again after 1, 4 and 16 minutes, then the run is marked failed. */
const MAX_ATTEMPTS = 4;
/** How long the download link in a webhook stays valid. */
const LINK_DAYS = 7;

/** The JSON body of a scheduled report's webhook, signed as alert webhooks are (alerts/webhook.ts); docs/reports.md shows it. */
export interface ScheduledReportPayload {
  event: 'report.scheduled';
  organizationId: string;
  schedule: { id: string; name: string };
  run: { id: string; attempt: number };
  report: { id: string; title: string | null; kind: string; periodFrom: string; periodTo: string };
  download: { pdf: string; expiresAt: string };
  sentBy: 'vigil';
}

/**
 * The scheduled-reports job: makes each due schedule's run (one per period, by a unique key, so two
 * processes never make it twice) with its report queued on the ordinary ReportRunner, and once the
 * report is done sends it: an email with the PDF attached and/or a signed webhook with a signed,
 * expiring download link. Each target is sent at most once; failures are retried, then recorded.
 */
export class ScheduleDelivery {
  constructor(
    private readonly ctx: AppContext,
    private readonly deps: { reports: ReportsService },
  ) {}

  /** One tick: start due schedules, then deliver finished runs. Returns how many runs were started and delivered. */
  async runDue(now = new Date()): Promise<{ started: number; delivered: number }> {
    const started = await this.startDue(now);
    let delivered = 0;
    for (;;) {
      const run = await store.claimFinishedRun(this.ctx.db, LEASE_SECONDS);
      if (!run) return { started, delivered };
      if (await this.deliver(run)) delivered += 1;
    }
  }

  private async startDue(now: Date): Promise<number> {
    const queued = await this.ctx.db.transaction().execute(async (tx) => {
      const reports = [];
      for (const schedule of await store.lockDue(tx, now, DUE_BATCH)) {
        const cadence = cadenceOf(schedule);
        // After downtime, the missed runs collapse into the latest one: one report, for the latest full period.
        const runAt = latestDueRun(cadence, schedule.next_run_at!, now);
        const period = periodOf(cadence, runAt);
        const following = nextRun(cadence, now);
        const run = await store.insertRun(tx, {
          scheduleId: schedule.id, orgId: schedule.org_id, ...period, email: schedule.email_recipients.length > 0, webhook: schedule.webhook_url !== null,
        });
        if (!run) {
          // This period already has its run (e.g. the schedule was edited to run again within it): nothing is sent twice.
          await store.advance(tx, schedule.id, following, null, schedule.last_status ?? 'skipped', schedule.last_error);
          continue;
        }
        const report = await this.deps.reports.createScheduled(tx, schedule, period);
        await store.attachReport(tx, run.id, report.id);
        await store.advance(tx, schedule.id, following, runAt, 'generating', null);
        reports.push(report);
      }
      return reports;
    });
    for (const report of queued) await this.deps.reports.announceQueued(report);
    return queued.length;
  }

  /** Sends what a finished run still owes; returns whether it is now fully delivered. */
  private async deliver(run: store.OpenRun): Promise<boolean> {
    if (run.report_status !== 'done' || !run.pdf_key) {
      const error = run.report_id === null ? 'the report was deleted before it was sent' : `the report failed: ${run.report_error ?? 'unknown error'}`;
      await store.saveRun(this.ctx.db, run.id, { status: 'failed', last_error: error });
      await store.recordOutcome(this.ctx.db, run.schedule_id, 'failed', error);
      return false;
    }
    const errors: string[] = [];
    const targets = { email: run.email_status, webhook: run.webhook_status };
    let responseStatus: number | null = run.webhook_response_status;
    if (targets.email === 'pending' || targets.email === 'failed') {
      try {
        await this.email(run);
        targets.email = 'sent';
      } catch (error) {
        targets.email = 'failed';
        errors.push(`email: ${(error as Error).message}`);
      }
    }
    if (targets.webhook === 'pending' || targets.webhook === 'failed') {
      try {
        responseStatus = await this.webhook(run);
        targets.webhook = 'sent';
      } catch (error) {
        targets.webhook = 'failed';
        responseStatus = (error as { status?: number }).status ?? null;
        errors.push(`webhook: ${(error as Error).message}`);
      }
    }
    const delivered = errors.length === 0;
    const retry = !delivered && run.attempts < MAX_ATTEMPTS;
    const error = errors.join('; ') || null;
    await store.saveRun(this.ctx.db, run.id, {
      email_status: targets.email, webhook_status: targets.webhook, webhook_response_status: responseStatus, last_error: error,
      status: delivered ? 'delivered' : retry ? 'delivering' : 'failed',
      ...(delivered && { delivered_at: new Date() }),
      ...(retry && { next_attempt_at: new Date(Date.now() + 60_000 * 4 ** (run.attempts - 1)) }),
    });
    await store.recordOutcome(this.ctx.db, run.schedule_id, delivered ? 'delivered' : retry ? 'retrying' : 'failed', error);
    return delivered;
  }

  private async pdf(run: store.OpenRun): Promise<Buffer> {
    const data = await this.ctx.media.get(run.pdf_key!);
    if (!data) throw new Error('the report file is missing');
    return data;
  }

  private async email(run: store.OpenRun): Promise<void> {
    const period = formatDayRange(localDate(run.period_start, run.timezone), localDate(new Date(run.period_end.getTime() - 1), run.timezone), run.locale);
    const filename = `${run.report_file_stem ?? fileStemOf(run.schedule_name)}.pdf`;
    await this.ctx.mailer.deliver({
      to: run.email_recipients.join(', '),
      subject: `[Vigil] ${run.report_title ?? run.schedule_name}`,
      text: [
        `The scheduled report "${run.schedule_name}" is attached (${period}).`,
        '',
        `All reports, with their CSV files: ${this.ctx.config.publicUrl}/reports`,
      ].join('\n'),
      attachments: [{ filename, content: await this.pdf(run), contentType: 'application/pdf' }],
    });
  }

  private async webhook(run: store.OpenRun): Promise<number> {
    if (!run.webhook_url || !run.webhook_secret_sealed) throw new Error('the schedule has no webhook URL or secret');
    const expires = Math.floor(Date.now() / 1000) + LINK_DAYS * 86_400;
    const payload: ScheduledReportPayload = {
      event: 'report.scheduled',
      organizationId: run.org_id,
      schedule: { id: run.schedule_id, name: run.schedule_name },
      run: { id: run.id, attempt: run.attempts },
      report: { id: run.report_id!, title: run.report_title, kind: run.kind, periodFrom: run.period_start.toISOString(), periodTo: run.period_end.toISOString() },
      download: { pdf: this.downloadUrl(run.report_id!, expires), expiresAt: new Date(expires * 1000).toISOString() },
      sentBy: 'vigil',
    };
    return postSignedWebhook(this.ctx.outbound, {
      url: run.webhook_url,
      secret: unseal(this.ctx.secrets.encryptionKey, run.webhook_secret_sealed),
      event: payload.event,
      deliveryId: run.id,
      body: JSON.stringify(payload),
    });
  }


  // Signed download links: the link is the authorization, so it names one file and expires.

  private signLink(reportId: string, expires: number): string {
    return hmac(this.ctx.secrets.secretKey, `scheduled-report:${reportId}:${expires}`);
  }

  private downloadUrl(reportId: string, expires: number): string {
    return `${this.ctx.config.publicUrl}/api/v1/report-links/${reportId}/pdf?expires=${expires}&signature=${this.signLink(reportId, expires)}`;
  }

  /** The PDF behind a signed link from a webhook, while the link is valid and the report still exists. */
  async linkedPdf(reportId: string, expires: number, signature: string) {
    if (!safeEqual(signature, this.signLink(reportId, expires))) throw notFound('report');
    if (Date.now() / 1000 > expires) throw new AppError(410, 'report_link_expired', 'this download link has expired; download the report from the Reports page');
    const report = await store.scheduledReportFile(this.ctx.db, reportId);
    if (!report?.pdf_key || report.status !== 'done') throw notFound('report');
    const data = await this.ctx.media.get(report.pdf_key);
    if (!data) throw notFound('report');
    return { data, filename: `${report.file_stem}.pdf` };
  }
}
