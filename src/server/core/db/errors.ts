/** PostgreSQL's error codes (SQLSTATE), as the write path needs to tell them apart. */

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * A data exception (class 22: bad encoding, NUL in text, a value out of range, an invalid date or
 * JSON…): the statement's values were refused, so its sender is answered 4xx, not 500.
 */
export function isDataException(error: unknown): boolean {
  return sqlState(error)?.startsWith('22') ?? false;
}

/**
 * An error one row can cause and that would recur with the same rows: a data exception, an integrity
 * constraint (class 23) or a limit (class 54, e.g. a value too large or too deeply nested). Not a lost
 * connection, an overloaded server or a shutdown, which are about the server, not the rows.
 */
export function isRowError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && ['22', '23', '54'].includes(state.slice(0, 2));
}

/** A deadlock or serialization failure (40P01, 40001): the statement rolled back whole and may simply be run again. */
export function isTransientConflict(error: unknown): boolean {
  const state = sqlState(error);
  return state === '40P01' || state === '40001';
}
