import { stringify, type Options, type Stringifier } from 'csv-stringify';
import { stringify as stringifyRows } from 'csv-stringify/sync';

/**
 * Every CSV file Vigil writes goes through here, because its cells hold text typed by users and sent
 * by devices, and a spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
 * return as a formula (`=HYPERLINK(…)` phoning home, `@SUM(…)`, DDE). Such text gets a leading `'`,
 * which spreadsheets show as text (OWASP's advice). Only strings are touched: a number the server
 * writes as a number (a negative temperature, -3.5) stays a number.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function safeCsvText(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

const options: Options = { cast: { string: safeCsvText } };

/**
 * A streaming writer of rows (arrays) with a header line; write rows, then end(). `quoteAll`: every field
 * in quotes, empty ones too (for files read by tools that expect it, e.g. the delivery-challan export).
 */
export function csvStream(columns: string[], { quoteAll = false } = {}): Stringifier {
  return stringify({ ...options, header: true, columns, ...(quoteAll && { quoted: true, quoted_empty: true }) });
}

type PageFetcher<T> = (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>;

/** Writes a keyset-paged list to a CSV stream page by page, honouring back-pressure; never holds the whole set. */
export function streamCsvPages<T>(csv: Stringifier, fetchPage: PageFetcher<T>, toRow: (item: T) => unknown[]): Stringifier {
  void (async () => {
    try {
      let cursor: string | undefined;
      do {
        const page = await fetchPage(cursor);
        for (const item of page.items) {
          if (!csv.write(toRow(item))) await new Promise((resolve) => csv.once('drain', resolve));
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      csv.end();
    } catch (error) {
      csv.destroy(error as Error);
    }
  })();
  return csv;
}

/** Rows (the first one usually the header) as CSV text. */
export function csvText(rows: unknown[][]): string {
  return stringifyRows(rows, options);
}

/**
 * One field for a hand-written line (where millions of rows make csv-stringify too slow): neutralised like
 * every other cell, and quoted when it holds a separator, a quote or a line break.
 */
export function csvField(value: string): string {
  const safe = safeCsvText(value);
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
