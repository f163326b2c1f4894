import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Email, errors, Password, Uuid } from '../core/http/schemas.js';
import { requestActor } from '../audit/service.js';
import type { SetupService } from './service.js';

const SetupBody = Type.Object({
  token: Type.String({ minLength: 10, maxLength: 200 }),
  organizationName: Type.String({ minLength: 1, maxLength: 200 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  email: Email,
  password: Password,
});

export function setupRoutes(setup: SetupService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();

    // The console's /setup page asks before showing the form, so a stale link says so at once.
    app.get('/api/v1/setup', {
      config: { access: 'public' },
      schema: {
        tags: ['setup'],
        summary: 'Whether first-run setup is still needed, and with `token`, whether that setup link is valid',
        querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })) }),
        response: { 200: Type.Object({ required: Type.Boolean(), tokenValid: Type.Optional(Type.Boolean()) }) },
      },
    }, async (request) => {
      const required = await setup.isRequired();
      const { token } = request.query;
      if (token === undefined) return { required };
      return { required, tokenValid: required && token !== '' && (await setup.tokenValid(token)) };
    });

    app.post('/api/v1/setup', {
      config: { access: 'public' },
      schema: {
        tags: ['setup'],
        summary: 'Create the first administrator and organization with the one-time setup token printed at start',
        body: SetupBody,
        response: {
          201: Type.Object({
            user: Type.Object({ id: Uuid, email: Type.String(), name: Type.String(), isSuperadmin: Type.Boolean() }),
            organization: Type.Object({ id: Uuid, name: Type.String(), slug: Type.String() }),
          }),
          ...errors(400, 403, 409),
        },
      },
    }, async (request, reply) => {
      const { token, ...input } = request.body;
      return reply.code(201).send(await setup.complete(token, input, requestActor(request)));
    });
  };
}
