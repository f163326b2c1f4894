import type { TrafficService } from '../traffic/service.js';
import { MAP_HEIGHT, MAP_WIDTH, type MapImage } from './map-image.js';
import { barChart, COLORS, contentWidth, ensureSpace, heading, lineChart, paragraph, renderPdf, reportFormat, table, type Pdf } from './pdf.js';
import { p85Caveat } from '../../shared/traffic.js';

/** Everything a speed-study report shows, gathered before drawing (see ReportRunner.speedStudy). */
export type SpeedStatistics = Awaited<ReturnType<TrafficService['statistics']>>;

export interface SpeedStudy {
  title: string;
  stats: SpeedStatistics;
  /** Where the study was taken: the device (or site) name, coordinates and the posted limit. */
  location: {
    name: string; site: string | null; lat: number | null; lon: number | null; address: string | null;
    /** Whose position and address these are: the radar's own, or its site's (a study of one radar says which). */
    positionOf?: 'device' | 'site' | null; addressOf?: 'device' | 'site' | null;
  };
  devices: { name: string; serial: string; speedLimit: number | null }[];
  notes: string | null;
  requestedBy: string | null;
  generatedAt: Date;
  /** The organization's locale: how dates and numbers are written. */
  locale: string;
  topSpeeders: { ts: Date; device: string; speed: number; limit: number | null; photo: Buffer | null }[];
  photosAllowed: boolean;
  /** The street map of the location; null when there are no coordinates or the tiles were unreachable. */
  map: MapImage | null;
}

/** Times in the subject's zone, dates and numbers in the organization's locale. */
const formatOf = (study: SpeedStudy) => reportFormat(study.locale, study.stats.subject.timezone);

function hourLabel(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00–${String((hour + 1) % 24).padStart(2, '0')}:00`;
}

export function renderSpeedStudyPdf(study: SpeedStudy): Promise<Buffer> {
  return renderPdf(study.title, (doc) => {
    titlePage(doc, study);
    if (study.stats.empty) {
      heading(doc, 'No data');
      paragraph(doc, `${study.stats.message ?? 'No speeds were recorded in this range.'} There is nothing to summarize: check the period and that the device was installed and sending.`);
      methodology(doc, study);
      return;
    }
    summary(doc, study);
    distributionCharts(doc, study);
    hourly(doc, study);
    speeding(doc, study);
    speeders(doc, study);
    methodology(doc, study);
  });
}

function titlePage(doc: Pdf, study: SpeedStudy): void {
  const { stats, location } = study;
  const tz = stats.subject.timezone;
  const f = formatOf(study);
  const unit = stats.units === 'mph' ? 'mph' : 'km/h';
  doc.font('Helvetica-Bold').fontSize(22).text('Speed study', 50, 90);
  doc.font('Helvetica').fontSize(14).fillColor(COLORS.muted).text(study.title).fillColor(COLORS.ink).moveDown(1.5);
  const limits = [...new Set(study.devices.map((d) => d.speedLimit).filter((l): l is number => l !== null))];
  const rows: [string, string][] = [
    ['Location', location.name + (location.site && location.site !== location.name ? ` (${location.site})` : '')],
    ...addressRows(study),
    ['Period', `${f.time(stats.from)} to ${f.time(stats.to)}`],
    ['Time zone', tz],
    ['Device(s)', study.devices.map((d) => `${d.name} (serial ${d.serial})`).join(', ') || '—'],
    ['Posted speed limit', limits.length ? limits.map((l) => `${f.count(l)} ${unit}`).join(', ') : 'not set'],
    ['Vehicles measured', f.count(stats.summary.count)],
    ['Calibration / notes', study.notes ?? '—'],
    ['Prepared', `${f.time(study.generatedAt)}${study.requestedBy ? ` for ${study.requestedBy}` : ''}`],
  ];
  for (const [label, value] of rows) {
    const y = doc.y;
    doc.font('Helvetica-Bold').fontSize(10).text(label, 50, y, { width: 140 });
    doc.font('Helvetica').text(value, 200, y, { width: 345 });
    doc.moveDown(0.5);
  }
  locationMap(doc, study);
  doc.addPage();
}

function locationMap(doc: Pdf, study: SpeedStudy): void {
  const width = contentWidth(doc);
  const height = (width * MAP_HEIGHT) / MAP_WIDTH;
  doc.moveDown(1);
  if (!study.map) {
    const why = study.location.lat === null || study.location.lon === null ? 'no coordinates recorded' : 'the map tiles could not be reached';
    paragraph(doc, `Location map unavailable (${why}).`, { muted: true });
    return;
  }
  ensureSpace(doc, height + 30);
  const top = doc.y;
  doc.image(study.map.png, 50, top, { width, height });
  doc.y = top + height + 4;
  paragraph(doc, `Map: ${study.map.attribution}. The pin marks the coordinates above.`, { muted: true, size: 8 });
}

function summary(doc: Pdf, study: SpeedStudy): void {
  const { summary: s, speeding: sp, units } = study.stats;
  const unit = units === 'mph' ? 'mph' : 'km/h';
  const f = formatOf(study);
  heading(doc, 'Summary');
  const rows: [string, string][] = [
    ['Vehicles', f.count(s.count)],
    ['Mean speed', `${f.figure(s.mean)} ${unit}`],
    ['Median (50th percentile)', `${f.figure(s.median)} ${unit}`],
    ['15th percentile', `${f.figure(s.p15)} ${unit}`],
    ['85th percentile', `${f.figure(s.p85)} ${unit}`],
    ['95th percentile', `${f.figure(s.p95)} ${unit}`],
    ['Standard deviation', `${f.figure(s.stddev)} ${unit}`],
    ['Lowest / highest', `${f.figure(s.min)} / ${f.figure(s.max)} ${unit}`],
    [`${units === 'mph' ? '10 mph' : '16 km/h'} pace`, s.pace ? `${f.count(s.pace.from)}–${f.count(s.pace.to)} ${unit}` : '—'],
    ['Share in the pace', f.percent(s.pace?.share)],
    ['Share over the limit', f.percent(sp.speedingShare)],
  ];
  table(doc, [{ label: 'Figure', width: 250 }, { label: 'Value', width: 245, align: 'right' }], rows);
  const caveat = p85Caveat(s.count);
  if (caveat) paragraph(doc, `85th percentile ${caveat}.`, { muted: true });
  if (study.stats.converted) paragraph(doc, 'Some devices record in the other unit; their figures were converted.', { muted: true });
}

function distributionCharts(doc: Pdf, study: SpeedStudy): void {
  const { histogram, cumulative, summary: s, units } = study.stats;
  const unit = units === 'mph' ? 'mph' : 'km/h';
  const p85 = s.p85 ?? undefined;
  const f = formatOf(study);
  heading(doc, 'Speed distribution');
  barChart(doc, histogram.map((b) => ({ x: b.from, width: 1, value: b.count, highlight: p85 !== undefined && b.from >= p85 })), {
    title: 'Vehicles per 1-unit speed bin',
    xLabel: `speed (${unit})`,
    yLabel: 'vehicles',
    locale: study.locale,
    marker: p85 !== undefined ? { x: p85, label: `85th percentile ${f.figure(p85)} ${unit}` } : undefined,
  });
  lineChart(doc, [{ points: [{ x: histogram[0]?.from ?? 0, y: 0 }, ...cumulative.map((c) => ({ x: c.speed, y: c.share * 100 }))] }], {
    title: 'Cumulative share of vehicles at or below each speed',
    xLabel: `speed (${unit})`,
    yLabel: '% of vehicles',
    yMax: 100,
    yFormat: (v) => `${Math.round(v)}%`,
    marker: p85 !== undefined ? { x: p85, label: `85 % at or below ${f.figure(p85)} ${unit}` } : undefined,
  });
}

function hourly(doc: Pdf, study: SpeedStudy): void {
  const { hourly: hours, peaks, units } = study.stats;
  const unit = units === 'mph' ? 'mph' : 'km/h';
  const f = formatOf(study);
  doc.addPage();
  heading(doc, 'Volume and speed by hour of day');
  const peakHours = new Set([peaks.am?.hour, peaks.pm?.hour].filter((h) => h !== undefined));
  barChart(doc, hours.map((h) => ({ x: h.hour, width: 1, value: h.count, highlight: peakHours.has(h.hour) })), {
    title: 'Vehicles per local hour (peak hours in red)', xLabel: 'hour of day', yLabel: 'vehicles', height: 130, locale: study.locale,
  });
  paragraph(doc, `AM peak: ${peaks.am ? `${hourLabel(peaks.am.hour)} (${f.count(peaks.am.count)} vehicles)` : '—'}. PM peak: ${peaks.pm ? `${hourLabel(peaks.pm.hour)} (${f.count(peaks.pm.count)} vehicles)` : '—'}.`);
  table(doc, [
    { label: 'Hour', width: 95 }, { label: 'Vehicles', width: 90, align: 'right' }, { label: `Mean (${unit})`, width: 100, align: 'right' },
    { label: `85th pct (${unit})`, width: 105, align: 'right' }, { label: 'Over limit', width: 105, align: 'right' },
  ], hours.map((h) => [hourLabel(h.hour), f.count(h.count), f.figure(h.mean), f.figure(h.p85), f.percent(h.speedingShare)]), { rowHeight: 14 });
}

function speeding(doc: Pdf, study: SpeedStudy): void {
  const { speeding: sp, units } = study.stats;
  const unit = units === 'mph' ? 'mph' : 'km/h';
  const f = formatOf(study);
  heading(doc, 'Speeding by band');
  paragraph(doc, `${f.count(sp.speeding)} of ${f.count(sp.measuredWithLimit)} vehicles measured where a limit was set were over it (${f.percent(sp.speedingShare)}).${sp.withoutLimit ? ` ${f.count(sp.withoutLimit)} vehicles had no limit recorded and are left out of these shares.` : ''}`);
  table(doc, [{ label: `Above the limit (${unit})`, width: 200 }, { label: 'Vehicles', width: 145, align: 'right' }, { label: 'Share of vehicles', width: 150, align: 'right' }],
    sp.bands.map((b) => [b.band, f.count(b.count), f.percent(b.share)]));
}

function speeders(doc: Pdf, study: SpeedStudy): void {
  if (study.topSpeeders.length === 0) return;
  const f = formatOf(study);
  // Keep the heading with the first rows of its table.
  ensureSpace(doc, 110);
  heading(doc, `Top ${study.topSpeeders.length} speeds`);
  if (!study.photosAllowed) paragraph(doc, 'Photos are not included: the organization has not allowed photos in reports.', { muted: true });
  table(doc, [{ label: 'When', width: 170 }, { label: 'Device', width: 150 }, { label: 'Speed', width: 85, align: 'right' }, { label: 'Limit', width: 90, align: 'right' }],
    study.topSpeeders.map((e) => [f.time(e.ts), e.device, f.figure(e.speed), e.limit === null ? '—' : f.count(e.limit)]));
  const withPhotos = study.topSpeeders.filter((e) => e.photo);
  if (withPhotos.length === 0) return;
  const size = 110;
  let column = 0;
  for (const e of withPhotos) {
    if (column === 0 && doc.y + size + 30 > doc.page.height - doc.page.margins.bottom) doc.addPage();
    const x = 50 + column * (size + 14);
    const y = doc.y;
    doc.image(e.photo!, x, y, { fit: [size, size] });
    doc.fontSize(7).text(`${f.figure(e.speed)} · ${f.time(e.ts, false)}`, x, y + size + 2, { width: size, lineBreak: false });
    column = (column + 1) % 4;
    doc.y = column === 0 ? y + size + 16 : y;
  }
  if (column !== 0) doc.y += size + 16;
  doc.x = 50;
}

function methodology(doc: Pdf, study: SpeedStudy): void {
  const unit = study.stats.units === 'mph' ? 'mph' : 'km/h';
  heading(doc, 'Methodology');
  paragraph(doc, [
    `Speeds are measured by the radar device(s) listed on the title page and recorded per vehicle. Figures are computed from Vigil's hourly rollups: a histogram of 1 ${unit} bins per device and hour, merged over the period. Percentiles (15th, median, 85th, 95th) are exact to the 1 ${unit} bin, as in FHWA/ITE speed-study practice; mean, standard deviation, lowest and highest are exact.`,
    `The pace is the ${study.stats.units === 'mph' ? '10 mph' : '16 km/h'} range (on whole-unit boundaries) containing the most vehicles. A vehicle is over the limit when its speed exceeds the limit in force at that moment; bands count how far over (1–5, 6–10, 11–15, over 15 ${unit}).`,
    `Hours are local hours in ${study.stats.subject.timezone}; on the days clocks change, the repeated or skipped hour is counted where it falls. The AM and PM peaks are the local hours with the most vehicles before and after noon.`,
    'The CSV files attached to this report give the same figures and every recorded vehicle, so the figures can be checked independently.',
  ].join('\n\n'));
}

/** The figures of the report as CSV rows: one section per table. */
export function speedStudyFiguresCsv(study: SpeedStudy): (string | number | null)[][] {
  const { stats } = study;
  const s = stats.summary;
  const rows: (string | number | null)[][] = [['section', 'name', 'value', 'extra']];
  const add = (section: string, name: string, value: string | number | null, extra: string | number | null = null) => rows.push([section, name, value, extra]);
  add('study', 'subject', stats.subject.name);
  add('study', 'from', stats.from);
  add('study', 'to', stats.to);
  add('study', 'timezone', stats.subject.timezone);
  add('study', 'units', stats.units);
  add('summary', 'count', s.count);
  for (const name of ['mean', 'stddev', 'min', 'max', 'p15', 'median', 'p85', 'p95'] as const) add('summary', name, s[name]);
  add('summary', 'pace_from', s.pace?.from ?? null, s.pace?.to ?? null);
  add('summary', 'pace_share', s.pace?.share ?? null);
  add('speeding', 'share_over_limit', stats.speeding.speedingShare);
  for (const band of stats.speeding.bands) add('speeding_band', band.band, band.count, band.share);
  for (const bin of stats.histogram) add('histogram', String(bin.from), bin.count);
  for (const point of stats.cumulative) add('cumulative', String(point.speed), point.share);
  for (const hour of stats.hourly) add('hourly', String(hour.hour), hour.count, hour.mean);
  for (const day of stats.daily) add('daily', day.date, day.count, day.mean);
  return rows;
}

/**
 * The position and address rows of the cover page. For one radar the site's address is labelled as the
 * site's: printed as "Address" it read as the radar's own, which stands elsewhere on the site's street.
 */
function addressRows(study: SpeedStudy): [string, string][] {
  const { location } = study;
  const oneRadar = study.devices.length === 1 && location.name === study.devices[0]!.name;
  const coordinates = location.lat !== null && location.lon !== null ? `${location.lat.toFixed(6)}, ${location.lon.toFixed(6)} (WGS 84)` : 'not recorded';
  const positionNote = oneRadar && location.positionOf === 'device' ? ', the radar\'s own position' : oneRadar && location.positionOf === 'site' ? ', the site\'s position (the radar has none of its own)' : '';
  const addressLabel = oneRadar && location.addressOf === 'site' ? 'Site address' : 'Address';
  return [['Coordinates', `${coordinates}${location.lat !== null ? positionNote : ''}`], [addressLabel, location.address ?? '—']];
}
