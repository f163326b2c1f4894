import assert from 'node:assert/strict';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { pdfText } from './helpers/pdf.js';
import { smtpSink, webhookReceiver } from './helpers/receivers.js';

/**
 * Scheduled reports: a due schedule makes one report for its period and delivers it by email (PDF
 * attached) and a signed webhook (signed download link), once per period however often the job runs.
 */
const ZONE = 'Europe/London';
/** Monday 12 October 2026, 06:00 in London (BST, UTC+1): a weekly Monday 06:00 run covering 5–11 October. */
const RUN_AT = new Date('2026-10-12T05:00:00Z');
const JUST_AFTER = new Date('2026-10-12T05:01:00Z');

function verifySignature(secret: string, header: string, body: string): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  if (!parts.t || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The decoded attachment of a raw MIME message whose part is of `type`. */
function attachment(raw: string, type: string): Buffer | null {
  const part = raw.split(/\r?\n--/).find((p) => p.toLowerCase().includes(`content-type: ${type}`));
  if (!part) return null;
  const body = part.split(/\r?\n\r?\n/).slice(1).join('\n');
  return Buffer.from(body.replace(/\s+/g, ''), 'base64');
}

/** A message's quoted-printable text as written (soft line breaks joined, =XX bytes read as UTF-8). */
function quotedPrintable(raw: string): string {
  const bytes = raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

describe('report schedules', () => {
  let app: TestApp;
  let owner: SignedIn;
  let sink: Awaited<ReturnType<typeof smtpSink>>;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let site: string;
  let radar: string;

  const job = (now: Date) => app.runtime.services.scheduleDelivery.runDue(now);
  const generate = () => app.runtime.services.reportRunner.runQueued();
  /** Puts a schedule's next run at RUN_AT, as if it had been created before then. */
  const dueAt = (id: string, at: Date) => sql`UPDATE report_schedules SET next_run_at = ${at} WHERE id = ${id}::uuid`.execute(app.runtime.ctx.db);
  const weekly = (extra: Record<string, unknown> = {}) => ({
    name: 'School Road weekly', kind: 'speed_study', deviceId: radar, cadence: 'weekly', dayOfWeek: 1, timeOfDay: '06:00',
    emailRecipients: ['traffic@city.example'], webhookUrl: receiver.url, ...extra,
  });

  before(async () => {
    sink = await smtpSink();
    receiver = await webhookReceiver();
    app = await startTestApp({ smtp: { host: '127.0.0.1', port: sink.port, secure: false, from: 'Vigil <vigil@example.com>' }, webhookAllowPrivate: ['127.0.0.1'] });
    owner = await app.owner();
    site = (await owner.client.post('/api/v1/sites', { name: 'School Road', timezone: ZONE, lat: 51.5, lon: -0.12 })).body.id;
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Radar S', serial: 'RADAR-S', speedLimit: 30, siteId: site, lat: 51.501, lon: -0.123 });
    radar = created.body.device.id;
    const events = Array.from({ length: 200 }, (_, i) => ({
      client_ref: `s${i}`, ts: new Date(Date.UTC(2026, 9, 6, 7) + i * 600_000).toISOString(), kind: 'speed', speed: 22 + (i % 15), speed_limit: 30,
    }));
    const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': created.body.apiKey }, payload: { events } });
    assert.equal(sent.statusCode, 200, sent.body);
    await app.settleRollups();
    await app.runtime.services.traffic.rebuildRollups(radar, new Date(Date.UTC(2026, 9, 1)), new Date(Date.UTC(2026, 9, 20)));
  });
  after(async () => {
    await app.close();
    await sink.close();
    await receiver.close();
  });

  it('a due weekly schedule makes one report of the last full week, emails its PDF and sends one signed webhook, once', async () => {
    const created = await owner.client.post('/api/v1/report-schedules', weekly());
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { schedule, webhookSecret } = created.body;
    assert.match(webhookSecret, /^whsec_/);
    assert.equal(schedule.timezone, ZONE, 'the subject\'s time zone by default');
    assert.ok(new Date(schedule.nextRunAt) > new Date(), 'the next run is in the future');
    assert.equal((await owner.client.get(`/api/v1/report-schedules/${schedule.id}`)).body.webhookSecret, undefined, 'the secret is shown once');
    await dueAt(schedule.id, RUN_AT);

    // Two processes finding it due at once make one run.
    const ticks = await Promise.all([job(JUST_AFTER), job(JUST_AFTER)]);
    assert.equal(ticks[0]!.started + ticks[1]!.started, 1);
    await generate();
    await job(JUST_AFTER);

    const reports = (await owner.client.get('/api/v1/reports')).body.items;
    assert.equal(reports.length, 1);
    const report = reports[0];
    assert.equal(report.status, 'done', report.error);
    assert.deepEqual(report.schedule, { id: schedule.id, name: 'School Road weekly' });
    assert.equal(report.requestedBy, null);
    assert.equal(report.parameters.from, '2026-10-04T23:00:00.000Z', 'Monday 5 October, 00:00 in London');
    assert.equal(report.parameters.to, '2026-10-11T23:00:00.000Z', 'to Monday 12 October, 00:00 in London');

    assert.equal(sink.received.length, 1);
    const mail = sink.received[0]!;
    assert.deepEqual(mail.to, ['traffic@city.example']);
    // People read the period as the organization's locale (en-US) writes it; the attached file keeps ISO days.
    assert.equal(report.title, 'Speed study · School Road weekly · Oct 5 – 11, 2026');
    assert.equal(mail.subject, '[Vigil] Speed study · School Road weekly · Oct 5 – 11, 2026');
    assert.match(quotedPrintable(mail.raw), /is attached \(Oct 5 – 11, 2026\)/);
    assert.match(mail.raw, /filename="?Speed-study-School-Road-weekly-2026-10-05-to-2026-10-11\.pdf"?/);
    const pdf = attachment(mail.raw, 'application/pdf');
    assert.ok(pdf, 'the email has a PDF attachment');
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    assert.ok(pdfText(pdf).includes('Vehicles measured'), 'it is the speed study');

    assert.equal(receiver.received.length, 1);
    const hook = receiver.received[0]!;
    assert.ok(verifySignature(webhookSecret, String(hook.headers['x-vigil-signature']), hook.body), 'the signature verifies with the schedule\'s secret');
    assert.ok(!verifySignature('whsec_wrong', String(hook.headers['x-vigil-signature']), hook.body));
    const payload = JSON.parse(hook.body);
    assert.equal(payload.event, 'report.scheduled');
    assert.equal(hook.headers['x-vigil-event'], 'report.scheduled');
    assert.deepEqual(payload.schedule, { id: schedule.id, name: 'School Road weekly' });
    assert.equal(payload.report.id, report.id);
    assert.equal(payload.report.periodFrom, '2026-10-04T23:00:00.000Z');
    // The signed link downloads the PDF without signing in; a tampered one does not.
    const link = new URL(payload.download.pdf);
    const download = await app.runtime.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
    assert.equal(download.statusCode, 200);
    assert.equal(download.rawPayload.subarray(0, 5).toString(), '%PDF-');
    assert.equal(payload.report.title, report.title);
    assert.equal(download.headers['content-disposition'], 'attachment; filename="Speed-study-School-Road-weekly-2026-10-05-to-2026-10-11.pdf"');
    link.searchParams.set('signature', 'x'.repeat(43));
    assert.equal((await app.runtime.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` })).statusCode, 404);

    const after = (await owner.client.get(`/api/v1/report-schedules/${schedule.id}`)).body;
    assert.equal(after.lastStatus, 'delivered');
    assert.equal(after.lastRunAt, RUN_AT.toISOString());
    assert.equal(after.nextRunAt, '2026-10-19T05:00:00.000Z', 'next Monday 06:00 in London');
    const runs = (await owner.client.get(`/api/v1/report-schedules/${schedule.id}/runs`)).body.items;
    assert.equal(runs.length, 1);
    assert.deepEqual({ status: runs[0].status, email: runs[0].email, webhook: runs[0].webhook, reportId: runs[0].reportId }, { status: 'delivered', email: 'sent', webhook: 'sent', reportId: report.id });

    // Again for the same period (as a process that read the schedule before it moved on would): nothing more.
    await dueAt(schedule.id, RUN_AT);
    assert.deepEqual(await job(JUST_AFTER), { started: 0, delivered: 0 });
    await generate();
    await job(JUST_AFTER);
    assert.equal(sink.received.length, 1);
    assert.equal(receiver.received.length, 1);
    assert.equal((await owner.client.get('/api/v1/reports')).body.items.length, 1);
    assert.equal((await owner.client.get(`/api/v1/report-schedules/${schedule.id}/runs`)).body.items.length, 1);
    assert.equal((await owner.client.delete(`/api/v1/report-schedules/${schedule.id}`)).status, 204);
  });

  it('records a failed delivery, retries only what failed, and says so on the schedule', async () => {
    const failing = await webhookReceiver([500]);
    try {
      const { schedule } = (await owner.client.post('/api/v1/report-schedules', weekly({ name: 'Flaky receiver', webhookUrl: failing.url }))).body;
      await dueAt(schedule.id, RUN_AT);
      const mailsBefore = sink.received.length;
      await job(JUST_AFTER);
      await generate();
      await job(JUST_AFTER);
      let current = (await owner.client.get(`/api/v1/report-schedules/${schedule.id}`)).body;
      assert.equal(current.lastStatus, 'retrying');
      assert.match(current.lastError, /webhook: the receiver answered 500/);
      let run = (await owner.client.get(`/api/v1/report-schedules/${schedule.id}/runs`)).body.items[0];
      assert.deepEqual({ status: run.status, email: run.email, webhook: run.webhook, code: run.webhookResponseStatus }, { status: 'delivering', email: 'sent', webhook: 'failed', code: 500 });
      assert.equal(sink.received.length, mailsBefore + 1);

      // The retry is due (its back-off has passed): the webhook goes out, the email is not sent again.
      await sql`UPDATE report_schedule_runs SET next_attempt_at = now() WHERE id = ${run.id}::uuid`.execute(app.runtime.ctx.db);
      await job(JUST_AFTER);
      run = (await owner.client.get(`/api/v1/report-schedules/${schedule.id}/runs`)).body.items[0];
      assert.deepEqual({ status: run.status, email: run.email, webhook: run.webhook, attempts: run.attempts }, { status: 'delivered', email: 'sent', webhook: 'sent', attempts: 2 });
      assert.equal(sink.received.length, mailsBefore + 1);
      assert.equal(failing.received.length, 2);
      current = (await owner.client.get(`/api/v1/report-schedules/${schedule.id}`)).body;
      assert.deepEqual({ status: current.lastStatus, error: current.lastError }, { status: 'delivered', error: null });
      await owner.client.delete(`/api/v1/report-schedules/${schedule.id}`);
    } finally {
      await failing.close();
    }
  });

  it('sends a schedule now, for its last full period, beside that period\'s scheduled run; one at a time; writers only', async () => {
    const { schedule, webhookSecret } = (await owner.client.post('/api/v1/report-schedules', weekly({ name: 'Try me', enabled: false }))).body;
    const viewer = await app.member(owner, 'viewer');
    assert.equal((await viewer.client.post(`/api/v1/report-schedules/${schedule.id}/send`)).status, 403);
    const stranger = await app.owner('Other borough');
    assert.equal((await stranger.client.post(`/api/v1/report-schedules/${schedule.id}/send`)).status, 404);
    // Invitations go to the sink too: count the schedule's own mails.
    const reportMails = () => sink.received.filter((m) => m.to.includes('traffic@city.example'));
    const mailsBefore = reportMails().length;
    const hooksBefore = receiver.received.length;

    const sent = await owner.client.post(`/api/v1/report-schedules/${schedule.id}/send`);
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const run = sent.body;
    assert.deepEqual([run.manual, run.status, run.email, run.webhook], [true, 'generating', 'pending', 'pending']);
    const from = new Date(run.periodFrom);
    const to = new Date(run.periodTo);
    assert.ok(Math.abs(to.getTime() - from.getTime() - 7 * 86_400_000) <= 3_600_000, 'a whole week (an hour more or less across a clock change)');
    assert.ok(to <= new Date() && Date.now() - to.getTime() < 7 * 86_400_000, 'the last full week');
    const again = await owner.client.post(`/api/v1/report-schedules/${schedule.id}/send`);
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /already being sent/);

    await generate();
    await job(new Date());
    assert.equal(reportMails().length, mailsBefore + 1);
    assert.equal(attachment(reportMails().at(-1)!.raw, 'application/pdf')!.subarray(0, 5).toString(), '%PDF-');
    assert.equal(receiver.received.length, hooksBefore + 1);
    const hook = receiver.received.at(-1)!;
    assert.ok(verifySignature(webhookSecret, String(hook.headers['x-vigil-signature']), hook.body));
    assert.equal(JSON.parse(hook.body).report.periodFrom, run.periodFrom);
    const current = (await owner.client.get(`/api/v1/report-schedules/${schedule.id}`)).body;
    assert.deepEqual([current.enabled, current.nextRunAt, current.lastStatus], [false, null, 'delivered'], 'still disabled, with no next run');

    // The period's scheduled run still happens once the schedule is enabled.
    assert.equal((await owner.client.patch(`/api/v1/report-schedules/${schedule.id}`, { enabled: true })).status, 200);
    const scheduledAt = new Date(to.getTime() + 6 * 3_600_000);
    await dueAt(schedule.id, scheduledAt);
    assert.equal((await job(new Date(scheduledAt.getTime() + 60_000))).started, 1);
    await generate();
    await job(new Date());
    assert.equal(reportMails().length, mailsBefore + 2);
    const runs = (await owner.client.get(`/api/v1/report-schedules/${schedule.id}/runs`)).body.items;
    assert.deepEqual(runs.map((r: { manual: boolean; status: string; periodFrom: string }) => [r.manual, r.status, r.periodFrom]).sort(),
      [[false, 'delivered', run.periodFrom], [true, 'delivered', run.periodFrom]]);
    // Finished, it can be sent again.
    assert.equal((await owner.client.post(`/api/v1/report-schedules/${schedule.id}/send`)).status, 202);

    const audit = (await owner.client.get(`/api/v1/audit?resourceId=${schedule.id}`)).body.items.map((e: { action: string }) => e.action);
    assert.equal(audit.filter((a: string) => a === 'report_schedule.sent_now').length, 2);
    assert.equal((await owner.client.delete(`/api/v1/report-schedules/${schedule.id}`)).status, 204);
  });

  it('runs the HACCP compliance record of a refrigeration unit through the same job', async () => {
    const fridge = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Walk-in cooler', serial: 'COOL-1', siteId: site, settings: { safeRange: { min: 0, max: 5 } } });
    assert.equal(fridge.status, 201, JSON.stringify(fridge.body));
    const created = await owner.client.post('/api/v1/report-schedules', {
      name: 'Cooler monthly', kind: 'compliance', deviceId: fridge.body.device.id, cadence: 'monthly', dayOfMonth: 1, timeOfDay: '07:00', emailRecipients: ['inspector@food.example'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.schedule.id;
    await dueAt(id, new Date('2026-11-01T07:00:00Z'));
    const mailsBefore = sink.received.length;
    assert.equal((await job(new Date('2026-11-01T07:01:00Z'))).started, 1);
    await generate();
    await job(new Date('2026-11-01T07:01:00Z'));
    const report = (await owner.client.get('/api/v1/reports?kind=compliance')).body.items[0];
    assert.equal(report.status, 'done', report.error);
    assert.equal(report.parameters.from, '2026-09-30T23:00:00.000Z', 'October, London time');
    assert.equal(sink.received.length, mailsBefore + 1);
    const mail = sink.received.at(-1)!;
    assert.deepEqual(mail.to, ['inspector@food.example']);
    assert.ok(pdfText(attachment(mail.raw, 'application/pdf')!).includes('Walk-in cooler'));
    await owner.client.delete(`/api/v1/report-schedules/${id}`);
  });

  it('answers 400 with reasons for bad schedules; day 31 means the last day of each month', async () => {
    const bad = async (body: Record<string, unknown>, field: string) => {
      const response = await owner.client.post('/api/v1/report-schedules', body);
      assert.equal(response.status, 400, JSON.stringify(response.body));
      const fields = (response.body.error.details ?? []).map((d: { field: string }) => d.field);
      assert.ok(fields.some((f: string) => f.includes(field)), `${field} in ${JSON.stringify(response.body.error)}`);
      return response.body.error;
    };
    await bad(weekly({ deviceId: randomUUID() }), 'deviceId');
    await bad(weekly({ timezone: 'Mars/Olympus_Mons' }), 'timezone');
    await bad(weekly({ emailRecipients: [], webhookUrl: null }), 'emailRecipients');
    await bad(weekly({ emailRecipients: ['not-an-address'] }), 'emailRecipients');
    await bad(weekly({ dayOfWeek: null }), 'dayOfWeek');
    await bad(weekly({ timeOfDay: '25:00' }), 'timeOfDay');
    await bad(weekly({ kind: 'compliance' }), 'deviceId');
    await bad({ ...weekly(), cadence: 'monthly', dayOfWeek: null, dayOfMonth: 32 }, 'dayOfMonth');

    const stranger = await app.owner('Elsewhere');
    const strangerSite = (await stranger.client.post('/api/v1/sites', { name: 'Their site', timezone: ZONE })).body.id;
    // The operator allows the receivers' 127.0.0.1 here, and no other private address.
    const refused = await stranger.client.post('/api/v1/report-schedules', { ...weekly({ deviceId: null, siteId: strangerSite }), webhookUrl: 'http://10.1.2.3:9/hook', emailRecipients: [] });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.details[0].field, 'webhookUrl');
    assert.match(refused.body.error.details[0].message, /private, loopback or link-local/);
    assert.match(JSON.stringify(await bad(weekly({ deviceId: null, siteId: strangerSite }), 'siteId')), /no such site/);

    const monthly = await owner.client.post('/api/v1/report-schedules', { ...weekly({ name: 'Month end' }), cadence: 'monthly', dayOfWeek: null, dayOfMonth: 31, timeOfDay: '07:30' });
    assert.equal(monthly.status, 201, JSON.stringify(monthly.body));
    const next = new Date(monthly.body.schedule.nextRunAt);
    const local = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(next);
    const part = (type: string) => Number(local.find((p) => p.type === type)!.value);
    const lastDay = new Date(Date.UTC(part('year'), part('month'), 0)).getUTCDate();
    assert.deepEqual([part('day'), part('hour'), part('minute')], [lastDay, 7, 30], 'the last day of the month, 07:30 local');
    await owner.client.delete(`/api/v1/report-schedules/${monthly.body.schedule.id}`);
  });

  it('lets viewers read but not write, hides other organizations\' schedules, audits changes, and a disabled schedule does not run', async () => {
    const { schedule } = (await owner.client.post('/api/v1/report-schedules', weekly({ name: 'Audited' }))).body;
    const viewer = await app.member(owner, 'viewer');
    const operator = await app.member(owner, 'operator');
    const manager = await app.member(owner, 'manager');
    assert.equal((await viewer.client.get(`/api/v1/report-schedules/${schedule.id}`)).status, 200);
    assert.ok((await viewer.client.get('/api/v1/report-schedules')).body.items.some((s: { id: string }) => s.id === schedule.id));
    assert.equal((await viewer.client.post('/api/v1/report-schedules', weekly())).status, 403);
    assert.equal((await viewer.client.patch(`/api/v1/report-schedules/${schedule.id}`, { enabled: false })).status, 403);
    assert.equal((await operator.client.delete(`/api/v1/report-schedules/${schedule.id}`)).status, 403);

    const stranger = await app.owner('Other council');
    assert.equal((await stranger.client.get(`/api/v1/report-schedules/${schedule.id}`)).status, 404);
    assert.equal((await stranger.client.patch(`/api/v1/report-schedules/${schedule.id}`, { enabled: false })).status, 404);
    assert.equal((await stranger.client.delete(`/api/v1/report-schedules/${schedule.id}`)).status, 404);
    assert.equal((await stranger.client.get(`/api/v1/report-schedules/${schedule.id}/runs`)).status, 404);
    assert.deepEqual((await stranger.client.get('/api/v1/report-schedules')).body.items, []);

    // A member restricted to another site neither sees this schedule nor can schedule this radar.
    const otherSite = (await owner.client.post('/api/v1/sites', { name: 'Harbour', timezone: ZONE })).body.id;
    const restricted = await app.member(owner, 'manager', [otherSite]);
    assert.deepEqual((await restricted.client.get('/api/v1/report-schedules')).body.items, []);
    assert.equal((await restricted.client.get(`/api/v1/report-schedules/${schedule.id}`)).status, 404);
    assert.equal((await restricted.client.patch(`/api/v1/report-schedules/${schedule.id}`, { enabled: false })).status, 404);
    assert.equal((await restricted.client.post('/api/v1/report-schedules', weekly())).status, 400);
    const theirs = await restricted.client.post('/api/v1/report-schedules', weekly({ name: 'Harbour weekly', deviceId: null, siteId: otherSite }));
    assert.equal(theirs.status, 201, JSON.stringify(theirs.body));
    assert.deepEqual((await restricted.client.get('/api/v1/report-schedules')).body.items.map((s: { name: string }) => s.name), ['Harbour weekly']);
    await restricted.client.delete(`/api/v1/report-schedules/${theirs.body.schedule.id}`);

    const disabled = await manager.client.patch(`/api/v1/report-schedules/${schedule.id}`, { enabled: false });
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    assert.equal(disabled.body.schedule.enabled, false);
    assert.equal(disabled.body.schedule.nextRunAt, null);
    await dueAt(schedule.id, RUN_AT);
    assert.equal((await job(JUST_AFTER)).started, 0, 'a disabled schedule does not run');
    const enabled = await manager.client.patch(`/api/v1/report-schedules/${schedule.id}`, { enabled: true, cadence: 'monthly', dayOfMonth: 1 });
    assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
    assert.deepEqual([enabled.body.schedule.cadence, enabled.body.schedule.dayOfWeek, enabled.body.schedule.dayOfMonth], ['monthly', null, 1]);
    assert.ok(enabled.body.schedule.nextRunAt);
    assert.equal((await manager.client.delete(`/api/v1/report-schedules/${schedule.id}`)).status, 204);

    const audit = (await owner.client.get(`/api/v1/audit?resourceId=${schedule.id}`)).body.items.map((e: { action: string }) => e.action);
    assert.deepEqual(audit.sort(), ['report_schedule.created', 'report_schedule.deleted', 'report_schedule.updated', 'report_schedule.updated']);
  });
});
