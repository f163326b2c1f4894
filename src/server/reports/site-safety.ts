import { localDates } from '../traffic/range.js';
import { barChart, COLORS, contentWidth, ensureSpace, heading, paragraph, renderPdf, reportFormat, table, type Pdf } from './pdf.js';
import type { FramesAnalysed, SafetyCamera, ViolationCount, ViolationRow } from './site-safety-store.js';

/** Thumbnails printed at most: a busy month has thousands of violations, the PDF shows the first ones. */
export const MAX_THUMBNAILS = 24;
/** Rows of the violations table at most; the CSV lists up to the store's limit. */
export const MAX_TABLE_ROWS = 1000;

const RULES: Record<string, string> = { no_hardhat: 'No hard hat', no_vest: 'No safety vest', zone_breach: 'Zone breach' };
const SEVERITY_ORDER = ['critical', 'major', 'minor', 'warning', 'info'];

export interface SiteSafetyReport {
  title: string;
  organization: string;
  /** What the report is about: the organization, a site or a camera. */
  subject: string;
  sites: string[];
  timezone: string;
  from: Date;
  to: Date;
  generatedAt: Date;
  requestedBy: string | null;
  /** The organization's locale: how dates and numbers are written. */
  locale: string;
  cameras: SafetyCamera[];
  counts: ViolationCount[];
  medianSecondsToAcknowledge: number | null;
  frames: FramesAnalysed[];
  /** The first violations of the period in time order (all of them unless there are very many). */
  violations: ViolationRow[];
  /** Thumbnails by event id, for the first violations that have a photo. */
  thumbnails: Map<string, Buffer>;
  /** Violations with a photo beyond those shown. */
  photosNotShown: number;
}

export const ruleLabel = (rule: string | null) => (rule ? RULES[rule] ?? rule : '—');
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
/** Times in each violation's site's zone (the report's for the period), dates and numbers in the organization's locale. */
const formatOf = (r: SiteSafetyReport) => reportFormat(r.locale, r.timezone);
const durationOf = (v: ViolationRow) => (v.ended_at ? (v.ended_at.getTime() - v.started_at.getTime()) / 1000 : null);

/** Totals a reader looks for first: violations, acknowledged or not, and frames analysed. */
export function totals(report: SiteSafetyReport) {
  const violations = sum(report.counts.map((c) => c.count));
  const acknowledged = sum(report.counts.map((c) => c.acknowledged));
  return {
    violations, acknowledged, unacknowledged: violations - acknowledged,
    framesInferred: sum(report.frames.map((f) => f.frames_inferred)),
    framesDecoded: sum(report.frames.map((f) => f.frames_decoded)),
  };
}

function grouped<K extends string>(counts: ViolationCount[], key: (c: ViolationCount) => K) {
  const groups = new Map<K, { count: number; acknowledged: number }>();
  for (const c of counts) {
    const group = groups.get(key(c)) ?? { count: 0, acknowledged: 0 };
    group.count += c.count;
    group.acknowledged += c.acknowledged;
    groups.set(key(c), group);
  }
  return groups;
}

export function renderSiteSafetyPdf(report: SiteSafetyReport): Promise<Buffer> {
  return renderPdf(report.title, (doc) => {
    titlePage(doc, report);
    summary(doc, report);
    doc.addPage();
    perDayChart(doc, report);
    violationsTable(doc, report);
    acknowledgementRecord(doc, report);
    photos(doc, report);
    heading(doc, 'How these figures are made');
    paragraph(doc, 'Each violation is one incident: a person without a hard hat or vest, or inside a restricted zone, from the moment it opened until the person complied or left. Its duration runs to that end; an incident still open at the end of the period, or recorded without an end, shows "—". Time to acknowledge runs from the start of the violation to its acknowledgement. Frames analysed are the frames the detector ran on, from each camera\'s daily statistics over the local days the period touches.', { muted: true });
  });
}

function titlePage(doc: Pdf, r: SiteSafetyReport): void {
  const f = formatOf(r);
  doc.font('Helvetica-Bold').fontSize(20).text('Site safety report', 50, 80);
  doc.font('Helvetica').fontSize(12).text(r.subject).moveDown(0.5);
  paragraph(doc, `Organization: ${r.organization}.`);
  paragraph(doc, `Site${r.sites.length === 1 ? '' : 's'}: ${r.sites.length ? r.sites.join(', ') : 'none'}.`);
  paragraph(doc, `Period: ${f.time(r.from)} to ${f.time(r.to)} (${r.timezone}).`);
  paragraph(doc, `Generated ${f.time(r.generatedAt)}${r.requestedBy ? ` for ${r.requestedBy}` : ''}. Cameras covered: ${f.count(r.cameras.length)}.`);
}

function summary(doc: Pdf, r: SiteSafetyReport): void {
  const t = totals(r);
  const f = formatOf(r);
  heading(doc, 'Summary', 12);
  if (t.violations === 0) {
    paragraph(doc, 'No violations were recorded in this period.');
  } else {
    paragraph(doc, `Violations: ${f.count(t.violations)}. Acknowledged: ${f.count(t.acknowledged)}; not acknowledged: ${f.count(t.unacknowledged)}. Median time to acknowledge: ${f.duration(r.medianSecondsToAcknowledge)}.`);
  }
  paragraph(doc, `Frames analysed: ${f.count(t.framesInferred)} of ${f.count(t.framesDecoded)} decoded.`);

  heading(doc, 'By type and severity', 11);
  const byType = [...grouped(r.counts, (c) => `${c.rule ?? ''}|${c.severity ?? ''}`)]
    .map(([key, g]) => ({ rule: key.split('|')[0] || null, severity: key.split('|')[1] || '—', ...g }))
    .sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || b.count - a.count);
  table(doc, [
    { label: 'Type', width: 150 }, { label: 'Severity', width: 90 }, { label: 'Violations', width: 75, align: 'right' },
    { label: 'Acknowledged', width: 85, align: 'right' }, { label: 'Not acknowledged', width: 95, align: 'right' },
  ], byType.map((g) => [ruleLabel(g.rule), g.severity, f.count(g.count), f.count(g.acknowledged), f.count(g.count - g.acknowledged)]), { rowHeight: 14 });

  heading(doc, 'By camera', 11);
  const byCamera = grouped(r.counts, (c) => c.camera_id);
  const frames = new Map(r.frames.map((f) => [f.camera_id, f]));
  table(doc, [
    { label: 'Camera', width: 130 }, { label: 'Site', width: 110 }, { label: 'Violations', width: 65, align: 'right' },
    { label: 'Acknowledged', width: 75, align: 'right' }, { label: 'Frames analysed', width: 115, align: 'right' },
  ], r.cameras.map((c) => {
    const g = byCamera.get(c.id) ?? { count: 0, acknowledged: 0 };
    return [c.name, c.site_name ?? '—', f.count(g.count), f.count(g.acknowledged), f.count(frames.get(c.id)?.frames_inferred ?? 0)];
  }), { rowHeight: 14 });
}

function perDayChart(doc: Pdf, r: SiteSafetyReport): void {
  const f = formatOf(r);
  heading(doc, 'Violations per day', 12);
  const days = localDates({ from: r.from, to: r.to }, r.timezone);
  const byDay = grouped(r.counts, (c) => c.day);
  const zoneDays = new Set(r.counts.filter((c) => c.rule === 'zone_breach').map((c) => c.day));
  // Bars centred on their day's number: day i spans [i - 0.5, i + 0.5).
  barChart(doc, days.map((day, i) => ({ x: i + 0.5, width: 1, value: byDay.get(day)?.count ?? 0, highlight: zoneDays.has(day) })), {
    title: `Violations per local day (day 1 = ${days[0] ? f.day(days[0]) : '—'}; red: days with a zone breach)`,
    xLabel: 'day of the period', yLabel: 'violations', height: 150, yFormat: (v) => (Number.isInteger(v) ? f.count(v) : f.figure(v)),
  });
}

function violationsTable(doc: Pdf, r: SiteSafetyReport): void {
  const t = totals(r);
  const f = formatOf(r);
  heading(doc, 'Violations', 12);
  if (r.violations.length === 0) {
    paragraph(doc, 'None in this period.');
    return;
  }
  const shown = r.violations.slice(0, MAX_TABLE_ROWS);
  table(doc, [
    { label: '#', width: 22, align: 'right' }, { label: 'Time', width: 82 }, { label: 'Camera', width: 80 }, { label: 'Zone', width: 62 },
    { label: 'Rule', width: 70 }, { label: 'Duration', width: 44, align: 'right' }, { label: 'Acknowledged', width: 135 },
  ], shown.map((v, i) => [
    f.count(i + 1), f.timeIn(v.ts, v.timezone, false), v.camera, v.zone ?? '—', ruleLabel(v.rule), f.duration(durationOf(v)),
    v.acknowledged_at ? `${f.timeIn(v.acknowledged_at, v.timezone, false)}, ${v.acknowledged_by ?? 'someone'}` : 'not acknowledged',
  ]), { rowHeight: 14 });
  if (t.violations > shown.length) paragraph(doc, `… and ${f.count(t.violations - shown.length)} more violations in this period (the CSV lists up to ${f.count(r.violations.length)}).`, { muted: true });
}

/** Who acknowledged each violation, when and what they said, in full (table cells are cut short). */
function acknowledgementRecord(doc: Pdf, r: SiteSafetyReport): void {
  const f = formatOf(r);
  heading(doc, 'Acknowledgement record', 12);
  const acknowledged = r.violations.map((v, i) => ({ v, n: i + 1 })).filter(({ v }) => v.acknowledged_at).slice(0, MAX_TABLE_ROWS);
  if (acknowledged.length === 0) {
    paragraph(doc, 'No violation of this period has been acknowledged.');
    return;
  }
  for (const { v, n } of acknowledged) {
    const waited = (v.acknowledged_at!.getTime() - v.started_at.getTime()) / 1000;
    paragraph(doc, `#${n} · ${f.timeIn(v.ts, v.timezone)} · ${v.camera} · ${ruleLabel(v.rule)}: acknowledged by ${v.acknowledged_by ?? 'someone'}, ${f.timeIn(v.acknowledged_at!, v.timezone)} (after ${f.duration(waited)}). ${v.comment ? `Comment: "${v.comment}"` : 'No comment.'}`, { size: 9 });
    doc.moveDown(0.3);
  }
}

/** The padded crops of the first violations with a photo, in a grid, each captioned with its row number. */
function photos(doc: Pdf, r: SiteSafetyReport): void {
  if (r.thumbnails.size === 0) return;
  const f = formatOf(r);
  doc.addPage();
  heading(doc, 'Photos', 12);
  const perRow = 4;
  const gap = 10;
  const cell = (contentWidth(doc) - gap * (perRow - 1)) / perRow;
  const imageHeight = cell * 1.1;
  const shown = r.violations.map((v, i) => ({ v, n: i + 1, jpeg: r.thumbnails.get(v.id) })).filter((p) => p.jpeg);
  for (let i = 0; i < shown.length; i += perRow) {
    ensureSpace(doc, imageHeight + 36);
    const top = doc.y;
    shown.slice(i, i + perRow).forEach(({ v, n, jpeg }, j) => {
      const x = 50 + j * (cell + gap);
      doc.image(jpeg!, x, top, { fit: [cell, imageHeight], align: 'center', valign: 'center' });
      doc.font('Helvetica').fontSize(7).fillColor(COLORS.ink)
        .text(`#${n} · ${f.timeIn(v.ts, v.timezone)}\n${v.camera} · ${ruleLabel(v.rule)}`, x, top + imageHeight + 3, { width: cell, height: 22, ellipsis: true });
    });
    doc.x = 50;
    doc.y = top + imageHeight + 30;
  }
  if (r.photosNotShown > 0) paragraph(doc, `… and ${f.count(r.photosNotShown)} more violations with photos, not shown here (each is on the violation's event).`, { muted: true });
}

/** UTC timestamps and seconds for machines; local_time as people read it (the violation's zone, named). */
export function siteSafetyCsv(report: SiteSafetyReport): (string | number | null)[][] {
  const f = formatOf(report);
  const rows: (string | number | null)[][] = [[
    'event_id', 'ts_utc', 'local_time', 'site', 'camera', 'zone', 'rule', 'severity', 'duration_seconds', 'ended_utc',
    'acknowledged_by', 'acknowledged_utc', 'comment',
  ]];
  for (const v of report.violations) {
    rows.push([
      v.id, v.ts.toISOString(), f.timeIn(v.ts, v.timezone), v.site, v.camera, v.zone, v.rule, v.severity, durationOf(v),
      v.ended_at?.toISOString() ?? null, v.acknowledged_by, v.acknowledged_at?.toISOString() ?? null, v.comment,
    ]);
  }
  return rows;
}
