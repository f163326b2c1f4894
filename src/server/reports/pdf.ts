import PDFDocument from 'pdfkit';
import { DEFAULT_LOCALE, formatDay, formatDuration, formatNumber, formatPercent, formatTime, type Moment } from '../../shared/format.js';

/**
 * Small drawing helpers over pdfkit shared by every report: headings, tables that break across pages,
 * bar and line charts drawn as vector graphics. Only the built-in PDF fonts are used (no font files).
 */
export type Pdf = PDFKit.PDFDocument;

const INK = '#1f2933';
const MUTED = '#616e7c';
const ACCENT = '#2563eb';
const MARK = '#dc2626';
const GRID = '#d9dde2';

/**
 * How every report writes for people (the formatter the console shares): moments in the subject's zone with the
 * zone named and dates in the organization's locale ("11/23/2026, 9:05 AM MST" for en-US), numbers grouped.
 */
export function reportFormat(locale: string, zone: string) {
  return {
    /** Without the year in a table cell: the period on the title page says it. */
    time: (at: Moment, year = true) => formatTime(at, zone, locale, { style: 'numeric', year }),
    /** A moment in another zone than the subject's (a camera's site in an organization-wide report). */
    timeIn: (at: Moment, otherZone: string, year = true) => formatTime(at, otherZone, locale, { style: 'numeric', year }),
    /** A local calendar date ("2026-11-23", a daily row). */
    day: (date: string) => formatDay(date, locale, 'numeric'),
    count: (value: number) => formatNumber(value, locale),
    /** A measured figure with a fixed number of decimals: "42.5", "0.0" (never "-0.0"); "—" when missing. */
    figure: (value: number | null | undefined, digits = 1) => formatNumber(value, locale, digits, true),
    percent: (share: number | null | undefined) => formatPercent(share, locale),
    duration: (seconds: number | null | undefined) => formatDuration(seconds, locale),
  };
}
export type ReportFormat = ReturnType<typeof reportFormat>;

/** Builds a document and returns its bytes. */
export async function renderPdf(title: string, build: (doc: Pdf) => void | Promise<void>): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: 50, bufferPages: true, info: { Title: title, Creator: 'Vigil', Producer: 'Vigil (pdfkit)' } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  doc.fillColor(INK).font('Helvetica');
  await build(doc);
  footers(doc, title);
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}

function footers(doc: Pdf, title: string): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const bottom = doc.page.height - 35;
    // Writing below the bottom margin would add a page: lift the margin while writing the footer.
    const margin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.fontSize(8).fillColor(MUTED).text(`${title} · page ${i + 1} of ${range.count}`, 50, bottom, { width: doc.page.width - 100, align: 'center' });
    doc.page.margins.bottom = margin;
  }
  doc.fillColor(INK);
}

export function heading(doc: Pdf, text: string, size = 14): void {
  ensureSpace(doc, size * 3);
  doc.moveDown(0.6).font('Helvetica-Bold').fontSize(size).fillColor(INK).text(text, 50).font('Helvetica').fontSize(10).moveDown(0.3);
}

export function paragraph(doc: Pdf, text: string, options: { muted?: boolean; size?: number } = {}): void {
  doc.font('Helvetica').fontSize(options.size ?? 10).fillColor(options.muted ? MUTED : INK).text(text, 50, undefined, { width: contentWidth(doc) }).fillColor(INK);
}

export function contentWidth(doc: Pdf): number {
  return doc.page.width - doc.page.margins.left - doc.page.margins.right;
}

/** Starts a new page unless `height` points still fit above the bottom margin. */
export function ensureSpace(doc: Pdf, height: number): void {
  if (doc.y + height > doc.page.height - doc.page.margins.bottom) doc.addPage();
}

export interface Column {
  label: string;
  width: number;
  align?: 'left' | 'right';
}

/**
 * A table with a bold header row, repeated on each page it runs onto. A long cell wraps inside its column
 * and its row grows to hold it: the row's height is measured from the wrapped text before its rule is
 * drawn, so the rule runs under the text rather than through it. `rowHeight` is the least height of a row.
 */
export function table(doc: Pdf, columns: Column[], rows: string[][], options: { rowHeight?: number } = {}): void {
  const minHeight = options.rowHeight ?? 16;
  const x0 = doc.page.margins.left;
  const cellOptions = (column: Column) => ({ width: column.width - 4, align: column.align ?? 'left' });
  const heightOf = (cells: string[], bold: boolean) => {
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(9);
    return Math.max(minHeight, ...columns.map((column, i) => Math.ceil(doc.heightOfString(cells[i] || ' ', cellOptions(column))) + 5));
  };
  const drawRow = (cells: string[], bold: boolean, height: number) => {
    const y = doc.y;
    let x = x0;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(9).fillColor(INK);
    columns.forEach((column, i) => {
      doc.text(cells[i] ?? '', x + 2, y + 3, cellOptions(column));
      x += column.width;
    });
    doc.moveTo(x0, y + height).lineTo(x, y + height).lineWidth(0.5).strokeColor(GRID).stroke();
    doc.x = x0;
    doc.y = y + height;
  };
  const header = columns.map((c) => c.label);
  const headerHeight = heightOf(header, true);
  const bottom = () => doc.page.height - doc.page.margins.bottom;
  ensureSpace(doc, headerHeight + minHeight);
  drawRow(header, true, headerHeight);
  for (const row of rows) {
    const height = heightOf(row, false);
    if (doc.y + height > bottom()) {
      doc.addPage();
      drawRow(header, true, headerHeight);
    }
    drawRow(row, false, height);
  }
  doc.font('Helvetica').fontSize(10).moveDown(0.5);
}

export interface ChartOptions {
  title: string;
  height?: number;
  xLabel: string;
  yLabel: string;
  /** A vertical marker line at this x value, with its label (e.g. the 85th percentile). */
  marker?: { x: number; label: string };
  /** Format for the y axis ticks; default whole numbers grouped in `locale`. */
  yFormat?: (value: number) => string;
  locale?: string;
}

interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
}

function frame(doc: Pdf, options: ChartOptions): Frame {
  const height = options.height ?? 170;
  ensureSpace(doc, height + 50);
  doc.font('Helvetica-Bold').fontSize(10).fillColor(INK).text(options.title, 50);
  const top = doc.y + 6;
  const left = 50 + 38;
  const width = contentWidth(doc) - 38;
  return { left, top, width, height };
}

function axes(doc: Pdf, f: Frame, xTicks: { at: number; label: string }[], yMax: number, options: ChartOptions): void {
  const yFormat = options.yFormat ?? ((v: number) => formatNumber(v, options.locale ?? DEFAULT_LOCALE, 1));
  doc.lineWidth(0.5).strokeColor(GRID);
  doc.fontSize(7).fillColor(MUTED);
  for (let i = 0; i <= 4; i++) {
    const y = f.top + f.height - (f.height * i) / 4;
    doc.moveTo(f.left, y).lineTo(f.left + f.width, y).stroke();
    doc.text(yFormat((yMax * i) / 4), 50, y - 4, { width: 34, align: 'right', lineBreak: false });
  }
  for (const tick of xTicks) doc.text(tick.label, tick.at - 15, f.top + f.height + 3, { width: 30, align: 'center', lineBreak: false });
  doc.text(options.xLabel, f.left, f.top + f.height + 14, { width: f.width, align: 'center', lineBreak: false });
  doc.save().rotate(-90, { origin: [56, f.top + f.height / 2] }).text(options.yLabel, 56 - 60, f.top + f.height / 2 - 12, { width: 120, align: 'center', lineBreak: false }).restore();
  doc.fillColor(INK);
}

function marker(doc: Pdf, f: Frame, xOf: (x: number) => number, m: ChartOptions['marker']): void {
  if (!m) return;
  const x = xOf(m.x);
  doc.save().lineWidth(1.2).strokeColor(MARK).dash(3, { space: 2 }).moveTo(x, f.top).lineTo(x, f.top + f.height).stroke().undash().restore();
  doc.fontSize(8).fillColor(MARK).text(m.label, x + 3, f.top + 2, { lineBreak: false }).fillColor(INK);
}

function finish(doc: Pdf, f: Frame): void {
  doc.x = 50;
  doc.y = f.top + f.height + 30;
}

/** Bars at x positions `[x, x + width)`, e.g. a speed histogram. */
export function barChart(doc: Pdf, bars: { x: number; width: number; value: number; highlight?: boolean }[], options: ChartOptions): void {
  const f = frame(doc, options);
  const xMin = Math.min(...bars.map((b) => b.x));
  const xMax = Math.max(...bars.map((b) => b.x + b.width));
  const yMax = niceMax(Math.max(...bars.map((b) => b.value)));
  const xOf = (x: number) => f.left + ((x - xMin) / Math.max(1e-9, xMax - xMin)) * f.width;
  const yOf = (v: number) => f.top + f.height - (v / yMax) * f.height;
  axes(doc, f, ticks(xMin, xMax).map((t) => ({ at: xOf(t), label: String(t) })), yMax, options);
  for (const bar of bars) {
    const x = xOf(bar.x);
    const w = Math.max(0.5, xOf(bar.x + bar.width) - x - 0.5);
    doc.rect(x, yOf(bar.value), w, f.top + f.height - yOf(bar.value)).fill(bar.highlight ? MARK : ACCENT);
  }
  marker(doc, f, xOf, options.marker);
  finish(doc, f);
}

/** One or more series of (x, y) points joined by lines, e.g. a cumulative distribution. */
export function lineChart(doc: Pdf, series: { points: { x: number; y: number }[]; color?: string }[], options: ChartOptions & { yMax?: number }): void {
  const f = frame(doc, options);
  const all = series.flatMap((s) => s.points);
  const xMin = Math.min(...all.map((p) => p.x));
  const xMax = Math.max(...all.map((p) => p.x));
  const yMax = options.yMax ?? niceMax(Math.max(...all.map((p) => p.y)));
  const xOf = (x: number) => f.left + ((x - xMin) / Math.max(1e-9, xMax - xMin)) * f.width;
  const yOf = (v: number) => f.top + f.height - (v / yMax) * f.height;
  axes(doc, f, ticks(xMin, xMax).map((t) => ({ at: xOf(t), label: String(t) })), yMax, options);
  for (const s of series) {
    if (s.points.length === 0) continue;
    doc.lineWidth(1.5).strokeColor(s.color ?? ACCENT);
    s.points.forEach((p, i) => (i === 0 ? doc.moveTo(xOf(p.x), yOf(p.y)) : doc.lineTo(xOf(p.x), yOf(p.y))));
    doc.stroke();
  }
  marker(doc, f, xOf, options.marker);
  finish(doc, f);
}

function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function ticks(min: number, max: number): number[] {
  const span = max - min;
  const step = span <= 12 ? 1 : span <= 30 ? 5 : span <= 120 ? 10 : 20;
  const out: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max; t += step) out.push(t);
  return out;
}

export const COLORS = { ink: INK, muted: MUTED, accent: ACCENT, mark: MARK };
