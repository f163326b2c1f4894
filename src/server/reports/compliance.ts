import { metricInfo } from '../../shared/metrics.js';
import { heading, paragraph, renderPdf, reportFormat, table, type Pdf, type ReportFormat } from './pdf.js';
import type { DailyTemperature, PeriodAlert } from './store.js';

/** A reading holds until the next one for at most this long, as in the equipment figures (docs/equipment-figures.md). */
export const READING_HOLDS_MS = 15 * 60_000;

export interface SafeRange {
  min: number;
  max: number;
}

export interface Excursion {
  start: Date;
  end: Date;
  durationSeconds: number;
  /** The reading farthest outside the range. */
  peak: number;
  direction: 'above' | 'below';
  /** Still outside the range at the end of the period. */
  ongoing: boolean;
}

export function safeRangeOf(settings: Record<string, unknown>): SafeRange | null {
  const range = settings.safeRange as { min?: unknown; max?: unknown } | undefined;
  return typeof range?.min === 'number' && typeof range.max === 'number' ? { min: range.min, max: range.max } : null;
}

/**
 * Each spell of readings outside the safe range, from readings in time order: it starts at the first reading
 * outside, and ends at the first reading back inside, or 15 minutes after the last reading outside when the
 * unit went silent; clipped to the period.
 */
export function excursionsOf(readings: { ts: Date; value: number }[], range: SafeRange, from: Date, to: Date): Excursion[] {
  const excursions: Excursion[] = [];
  let open: { start: Date; last: Date; peak: number; direction: 'above' | 'below' } | null = null;
  const distance = (value: number) => (value > range.max ? value - range.max : value < range.min ? range.min - value : 0);
  const close = (end: Date) => {
    if (!open) return;
    const start = open.start < from ? from : open.start;
    const clipped = end > to ? to : end;
    if (clipped > start) {
      excursions.push({ start, end: clipped, durationSeconds: (clipped.getTime() - start.getTime()) / 1000, peak: open.peak, direction: open.direction, ongoing: end >= to });
    }
    open = null;
  };
  for (const reading of readings) {
    if (open && reading.ts.getTime() - open.last.getTime() > READING_HOLDS_MS) close(new Date(open.last.getTime() + READING_HOLDS_MS));
    const outside = distance(reading.value) > 0;
    if (!outside) {
      close(reading.ts);
      continue;
    }
    if (!open) {
      open = { start: reading.ts, last: reading.ts, peak: reading.value, direction: reading.value > range.max ? 'above' : 'below' };
    } else {
      open.last = reading.ts;
      if (distance(reading.value) > distance(open.peak)) {
        open.peak = reading.value;
        open.direction = reading.value > range.max ? 'above' : 'below';
      }
    }
  }
  if (open) {
    const silentAt = new Date((open as { last: Date }).last.getTime() + READING_HOLDS_MS);
    close(silentAt < to ? silentAt : to);
  }
  return excursions;
}

export interface ComplianceUnit {
  id: string;
  name: string;
  serial: string;
  site: string | null;
  safeRange: SafeRange | null;
  days: DailyTemperature[];
  excursions: Excursion[];
  alerts: PeriodAlert[];
  maintenance: { date: string; type: string; technician: string | null; description: string | null }[];
}

export interface ComplianceReport {
  title: string;
  subject: string;
  timezone: string;
  from: Date;
  to: Date;
  requestedBy: string | null;
  generatedAt: Date;
  /** The organization's locale: how dates and numbers are written. */
  locale: string;
  units: ComplianceUnit[];
}

const minutes = (f: ReportFormat, seconds: number | null) => (seconds === null ? '—' : `${f.count(Math.round(seconds / 60))} min`);
const TEMPERATURE_UNIT = metricInfo('refrigeration', 'temperature').unit ?? '';
const celsius = (f: ReportFormat, value: number | null) => (value === null ? '—' : `${f.figure(value)} ${TEMPERATURE_UNIT}`);
/** Times in the report's zone, dates and numbers in the organization's locale. */
const formatOf = (report: ComplianceReport) => reportFormat(report.locale, report.timezone);
const outsideSeconds = (unit: ComplianceUnit) => unit.days.reduce((sum, d) => sum + (d.outside_seconds ?? 0), 0);

export function renderCompliancePdf(report: ComplianceReport): Promise<Buffer> {
  const f = formatOf(report);
  return renderPdf(report.title, (doc) => {
    doc.font('Helvetica-Bold').fontSize(20).text('Temperature compliance record', 50, 80);
    doc.font('Helvetica').fontSize(12).text(report.subject).moveDown(0.5);
    paragraph(doc, `Period: ${f.time(report.from)} to ${f.time(report.to)} (${report.timezone}).`);
    paragraph(doc, `Prepared ${f.time(report.generatedAt)}${report.requestedBy ? ` for ${report.requestedBy}` : ''}. Units covered: ${f.count(report.units.length)}.`);
    if (report.units.length === 0) paragraph(doc, 'There are no refrigeration units in this scope.');
    else summary(doc, report);
    signOff(doc);
    for (const unit of report.units) unitSection(doc, report, unit);
    heading(doc, 'How these figures are made');
    paragraph(doc, 'Daily minimum, maximum and mean come from every temperature reading of the day (local dates). A reading holds until the next one, for at most 15 minutes; time outside the safe range counts the held time below the minimum or above the maximum. An excursion runs from the first reading outside the range to the first reading back inside (or 15 minutes after the last reading when the unit fell silent); its peak is the reading farthest outside the range.', { muted: true });
  });
}

/** Page 1: one line per unit, then the verdict an inspector reads first. */
function summary(doc: Pdf, report: ComplianceReport): void {
  const f = formatOf(report);
  heading(doc, 'Summary', 12);
  table(doc, [
    { label: 'Unit', width: 140 }, { label: 'Safe range', width: 95 }, { label: 'Outside range', width: 75, align: 'right' },
    { label: 'Excursions', width: 60, align: 'right' }, { label: 'Alerts', width: 45, align: 'right' }, { label: 'Unresolved', width: 80, align: 'right' },
  ], report.units.map((u) => [
    u.name, u.safeRange ? `${celsius(f, u.safeRange.min)} to ${celsius(f, u.safeRange.max)}` : 'not set',
    u.safeRange ? minutes(f, outsideSeconds(u)) : '—', u.safeRange ? f.count(u.excursions.length) : '—',
    f.count(u.alerts.length), f.count(u.alerts.filter((a) => !a.resolved_at).length),
  ]), { rowHeight: 14 });
  const unassessed = report.units.filter((u) => !u.safeRange);
  const withExcursions = report.units.filter((u) => u.safeRange && u.excursions.length > 0);
  const noActions = report.units.flatMap((u) => u.alerts).filter((a) => a.resolved_at && a.resolution === 'manual' && !a.resolve_comment);
  const verdict = [
    withExcursions.length === 0 ? 'No unit with a safe range left it in the period.'
      : `${withExcursions.length} of ${report.units.length} units left their safe range: see each unit's excursions and the corrective actions recorded on its alerts.`,
    unassessed.length > 0 ? `Not assessed (no safe range set): ${unassessed.map((u) => u.name).join(', ')}.` : '',
    noActions.length > 0 ? `${noActions.length} alert${noActions.length === 1 ? ' was' : 's were'} resolved by hand without a recorded corrective action.` : '',
  ];
  paragraph(doc, verdict.filter(Boolean).join(' '));
}

/** Lines for the person who reviews the record to sign, as a paper HACCP log has. */
function signOff(doc: Pdf): void {
  heading(doc, 'Review and sign-off', 12);
  paragraph(doc, 'I have reviewed this record and the corrective actions taken.', { muted: true });
  doc.moveDown(1.2);
  for (const label of ['Reviewed by (name)', 'Role', 'Signature', 'Date']) {
    const y = doc.y + 14;
    doc.font('Helvetica').fontSize(10).text(label, 50, y - 11, { width: 130, lineBreak: false });
    doc.moveTo(185, y).lineTo(450, y).lineWidth(0.7).strokeColor('#616e7c').stroke();
    doc.x = 50;
    doc.y = y + 10;
  }
}

/** Each alert's comments in full: who acknowledged it and what they said, who resolved it and the corrective action. */
function alertComments(doc: Pdf, unit: ComplianceUnit, f: ReportFormat): void {
  const noted = unit.alerts.filter((a) => a.acknowledge_comment || a.resolve_comment || (a.resolved_at && a.resolution === 'manual'));
  if (noted.length === 0) return;
  heading(doc, 'Corrective actions and comments', 11);
  for (const a of noted) {
    const lines = [`${f.time(a.started_at)} · ${a.rule_name}: ${a.message}`];
    if (a.acknowledged_at) lines.push(`Acknowledged by ${a.acknowledged_by_name ?? 'someone'}: ${a.acknowledge_comment ? `"${a.acknowledge_comment}"` : 'no comment'}`);
    if (a.resolved_at && a.resolution === 'manual') {
      lines.push(`Resolved by ${a.resolved_by_name ?? 'someone'}, ${f.time(a.resolved_at)}. Corrective action: ${a.resolve_comment ? `"${a.resolve_comment}"` : 'none recorded'}`);
    }
    paragraph(doc, lines.join('\n'), { size: 9 });
    doc.moveDown(0.4);
  }
}

function unitSection(doc: Pdf, report: ComplianceReport, unit: ComplianceUnit): void {
  const f = formatOf(report);
  doc.addPage();
  heading(doc, `${unit.name} (serial ${unit.serial})${unit.site ? ` · ${unit.site}` : ''}`, 15);
  paragraph(doc, unit.safeRange ? `Safe range: ${celsius(f, unit.safeRange.min)} to ${celsius(f, unit.safeRange.max)}.` : 'No safe range is configured for this unit: time outside the range and excursions cannot be assessed.');
  if (unit.safeRange) paragraph(doc, `Time outside the safe range in the period: ${minutes(f, outsideSeconds(unit))}; excursions: ${f.count(unit.excursions.length)}.`);

  heading(doc, 'Daily temperatures', 12);
  if (unit.days.length === 0) paragraph(doc, 'No readings in this period.');
  else table(doc, [
    { label: 'Date', width: 90 }, { label: 'Min', width: 70, align: 'right' }, { label: 'Max', width: 70, align: 'right' },
    { label: 'Mean', width: 70, align: 'right' }, { label: 'Readings', width: 80, align: 'right' }, { label: 'Outside range', width: 115, align: 'right' },
  ], unit.days.map((d) => [f.day(d.date), celsius(f, d.min), celsius(f, d.max), celsius(f, d.mean), f.count(d.readings), minutes(f, d.outside_seconds)]), { rowHeight: 14 });

  heading(doc, 'Excursions', 12);
  if (unit.excursions.length === 0) paragraph(doc, unit.safeRange ? 'None: every reading was inside the safe range.' : '—');
  else table(doc, [{ label: 'Start', width: 150 }, { label: 'Duration', width: 90, align: 'right' }, { label: 'Peak', width: 80, align: 'right' }, { label: 'Note', width: 175 }],
    unit.excursions.map((e) => [f.time(e.start), minutes(f, e.durationSeconds), celsius(f, e.peak), `${e.direction} range${e.ongoing ? ', still outside at period end' : ''}`]));

  heading(doc, 'Alerts', 12);
  if (unit.alerts.length === 0) paragraph(doc, 'No alerts in this period.');
  else table(doc, [{ label: 'Started', width: 110 }, { label: 'Rule', width: 110 }, { label: 'Severity', width: 55 }, { label: 'Acknowledged', width: 130 }, { label: 'Resolved', width: 90 }],
    unit.alerts.map((a) => [f.time(a.started_at), a.rule_name, a.severity,
      a.acknowledged_at ? `${a.acknowledged_by_name ?? 'someone'}, ${f.time(a.acknowledged_at)}` : 'not acknowledged',
      a.resolved_at ? f.time(a.resolved_at) : 'open']));
  alertComments(doc, unit, f);

  heading(doc, 'Maintenance', 12);
  if (unit.maintenance.length === 0) paragraph(doc, 'No maintenance recorded in this period.');
  else table(doc, [{ label: 'Performed', width: 110 }, { label: 'Type', width: 75 }, { label: 'Technician', width: 105 }, { label: 'Work done', width: 205 }],
    unit.maintenance.map((m) => [f.time(m.date), m.type, m.technician ?? '—', m.description ?? '']));
}

/** The report as CSV rows: one row per unit and day, excursion, alert and maintenance record. */
export function complianceCsv(report: ComplianceReport): (string | number | null)[][] {
  // Dates and figures in their own columns stay ISO 8601 and plain numbers, for machines; the detail text is for people.
  const f = formatOf(report);
  const rows: (string | number | null)[][] = [['unit', 'serial', 'record', 'date_or_start', 'min_c', 'max_c', 'mean_c', 'outside_seconds', 'duration_seconds', 'peak_c', 'detail']];
  for (const unit of report.units) {
    for (const d of unit.days) rows.push([unit.name, unit.serial, 'day', d.date, d.min, d.max, d.mean, d.outside_seconds, null, null, `${f.count(d.readings)} readings`]);
    for (const e of unit.excursions) rows.push([unit.name, unit.serial, 'excursion', e.start.toISOString(), null, null, null, null, e.durationSeconds, e.peak, `${e.direction}${e.ongoing ? ' (ongoing)' : ''}`]);
    for (const a of unit.alerts) rows.push([unit.name, unit.serial, 'alert', a.started_at.toISOString(), null, null, null, null, null, a.peak_value, `${a.severity} ${a.rule_name}; acknowledged by ${a.acknowledged_by_name ?? '—'}${a.acknowledged_at ? ` at ${f.time(a.acknowledged_at)}` : ''}${a.acknowledge_comment ? ` ("${a.acknowledge_comment}")` : ''}${a.resolved_at ? `; resolved ${f.time(a.resolved_at)}${a.resolved_by_name ? ` by ${a.resolved_by_name}` : ''}${a.resolve_comment ? ` ("${a.resolve_comment}")` : ''}` : ''}`]);
    for (const m of unit.maintenance) rows.push([unit.name, unit.serial, 'maintenance', m.date, null, null, null, null, null, null, `${m.type}: ${m.description ?? ''} (${m.technician ?? '—'})`]);
  }
  return rows;
}
