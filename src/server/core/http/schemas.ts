import { Type } from 'typebox';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../passwords.js';

/** Schemas every domain uses. */
export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  }),
});

/** The error responses a route may give, for the OpenAPI document. */
export function errors<const C extends number[]>(...codes: C): Record<C[number], typeof ErrorResponse> {
  return Object.fromEntries(codes.map((code) => [code, ErrorResponse])) as Record<C[number], typeof ErrorResponse>;
}

export const Uuid = Type.String({ format: 'uuid' });
export const IdParams = Type.Object({ id: Uuid });
/** A member's role: the staff roles, and `client` (a client company's user, scoped to one customer). */
export const RoleSchema = Type.Union([
  Type.Literal('owner'), Type.Literal('admin'), Type.Literal('manager'), Type.Literal('operator'), Type.Literal('viewer'), Type.Literal('client'),
]);
export const Timestamp = Type.String({ format: 'date-time' });
/** `T | null` for a response or body field. */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
export const NullableTimestamp = Nullable(Timestamp);
export const SiteIds = Type.Union([Type.Array(Uuid, { maxItems: 1000, uniqueItems: true }), Type.Null()]);
export const Email = Type.String({ format: 'email', maxLength: 320 });
export const Password = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH });
export const NoContent = Type.Null();
