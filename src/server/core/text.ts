import type { FieldError } from './http/errors.js';

/**
 * What PostgreSQL cannot store, checked on every text a device sends before it reaches a statement.
 * NUL: text columns refuse it, and jsonb refuses the `\u0000` escape JSON.stringify writes for it.
 * A lone UTF-16 surrogate: JSON.stringify writes it as an escape (`"\ud800"`) that jsonb refuses, and
 * in a text column the driver silently stores U+FFFD instead, so a resent event would no longer match
 * its stored key. Either would fail the whole statement the device's rows share with other devices'.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** JSON values nested deeper are refused: nobody needs them, and serializing them recursively could overflow the stack. */
export const MAX_JSON_DEPTH = 32;

/** Why PostgreSQL could not store this text, or null when it can. */
export function textProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
  if (LONE_SURROGATE.test(value)) return 'must not contain a lone UTF-16 surrogate (\\ud800-\\udfff without its pair)';
  return null;
}

/** The first key or string of a JSON value, at any depth, that PostgreSQL could not store, named by its path under `field`. */
export function jsonProblem(value: unknown, field: string): FieldError | null {
  return problemAt(value, field, 1);
}

function problemAt(value: unknown, path: string, depth: number): FieldError | null {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem ? { field: path, message: problem } : null;
  }
  if (typeof value !== 'object' || value === null) return null;
  if (depth > MAX_JSON_DEPTH) return { field: path, message: `is nested too deeply (at most ${MAX_JSON_DEPTH} levels)` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = problemAt(value[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, child] of Object.entries(value)) {
    const problem = textProblem(key);
    if (problem) return { field: path, message: `has a key that ${problem}` };
    const found = problemAt(child, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return null;
}
