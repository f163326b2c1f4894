import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { scopeOf } from '../core/access.js';
import { errors, IdParams, Nullable, Uuid } from '../core/http/schemas.js';
import type { AlertPeopleService } from './people.js';

const Person = Type.Object({ id: Uuid, name: Type.String() });

export function alertPeopleRoutes(people: AlertPeopleService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();

    app.get('/api/v1/alerts/:id/people', {
      config: { access: 'alert.read' },
      schema: {
        tags: ['alerts'],
        summary: 'Who acknowledged and who resolved an alert, by name',
        params: IdParams,
        response: { 200: Type.Object({ acknowledgedBy: Nullable(Person), resolvedBy: Nullable(Person) }), ...errors(401, 403, 404) },
      },
    }, async (request) => people.of(scopeOf(request), request.params.id));
  };
}
