import type { ReportKind } from '../core/db/schema.js';
import { formatDayRange } from '../../shared/format.js';
import { localDate } from '../traffic/range.js';

export const KIND_TITLES: Record<ReportKind, string> = { speed_study: 'Speed study', compliance: 'Compliance report', site_safety: 'Site safety report' };

/** What a report is called: its title for people and the stem of its files' names. */
export interface ReportNames {
  title: string;
  fileStem: string;
}

/** Safe in a file name and a Content-Disposition header: letters, digits, `_ . -`; at most 100 characters. */
export function fileStemOf(text: string): string {
  return text.replace(/[^\w.-]+/g, '-').replace(/-+/g, '-').slice(0, 100);
}

/**
 * A report's names from its kind, subject and period (`to` excluded, in the subject's zone): the title with the
 * days as the organization's locale writes a range ("Speed study · Main Street · Nov 1 – 30, 2026"), the file
 * names with ISO days, which sort ("Speed-study-Main-Street-2026-11-01-to-2026-11-30"). A title the member
 * typed is kept, and names the files too.
 */
export function reportNames(
  kind: ReportKind, subject: string, period: { from: string | Date; to: string | Date }, zone: string, locale: string, typedTitle?: string,
): ReportNames {
  if (typedTitle) return { title: typedTitle, fileStem: fileStemOf(typedTitle) };
  const first = localDate(new Date(period.from), zone);
  const last = localDate(new Date(new Date(period.to).getTime() - 1), zone);
  return {
    title: `${KIND_TITLES[kind]} · ${subject} · ${formatDayRange(first, last, locale)}`,
    fileStem: fileStemOf(`${KIND_TITLES[kind]} ${subject} ${first} to ${last}`),
  };
}
