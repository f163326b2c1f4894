import pg from 'pg';

/**
 * Type parsers are set once, process-wide, so every store returns the same JavaScript types on the
 * bundled PostgreSQL 18 and on an external PostgreSQL 15:
 * - int8 (bigint, count(*)) → number: Vigil's counters stay far below 2^53.
 * - numeric → number: used for measured values and aggregates, never for money arithmetic.
 * - timestamptz → Date (pg's default), timestamp without time zone → Date read as UTC.
 * - date → 'YYYY-MM-DD' string: a calendar day has no time zone, and Date would invent one.
 */
let installed = false;
export function installTypeParsers(): void {
  if (installed) return;
  installed = true;
  const { types } = pg;
  types.setTypeParser(types.builtins.INT8, (v) => Number(v));
  types.setTypeParser(types.builtins.NUMERIC, (v) => Number(v));
  types.setTypeParser(types.builtins.TIMESTAMP, (v) => new Date(`${v.replace(' ', 'T')}Z`));
  types.setTypeParser(types.builtins.DATE, (v) => v);
}
