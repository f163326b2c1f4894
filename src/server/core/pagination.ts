import { Type, type Static, type TSchema } from 'typebox';
import { badRequest } from './http/errors.js';

/**
 * Keyset pagination, the one way lists page in Vigil: `?limit=&cursor=`, answered with
 * `{ items, nextCursor }`. The cursor is the sort key of the last item, opaque to clients.
 */
export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
});
export type PageQuery = Static<typeof PageQuery>;

export function Page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

export interface PageRequest {
  limit: number;
  after: (string | number)[] | null;
}

export function pageRequest(query: PageQuery): PageRequest {
  return { limit: query.limit ?? 50, after: query.cursor ? decodeCursor(query.cursor) : null };
}

function decodeCursor(cursor: string): (string | number)[] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value;
  } catch {
    // fall through to the error below
  }
  throw badRequest('cursor is not valid; use the nextCursor of a previous page', [{ field: 'cursor', message: 'malformed' }]);
}

/** Builds a page from `limit + 1` fetched rows: the extra row only says whether there is more. */
export function toPage<T>(rows: T[], limit: number, sortKey: (row: T) => (string | number)[]) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor =
    rows.length > limit && last !== undefined ? Buffer.from(JSON.stringify(sortKey(last))).toString('base64url') : null;
  return { items, nextCursor };
}
