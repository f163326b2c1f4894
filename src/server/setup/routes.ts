import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../core/http/errors.js';
import { Email, errors, Password, Uuid } from '../core/http/schemas.js';
import { requestActor } from '../audit/service.js';
import { setupClosed, setupDone, setupForm } from './page.js';
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

    app.get('/setup', {
      config: { access: 'public' },
      schema: { hide: true, querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })) }) },
    }, async (request, reply) => {
      const token = request.query.token ?? '';
      const open = token !== '' && (await setup.tokenValid(token));
      return reply.code(open ? 200 : 403).type('text/html').send(open ? setupForm(token) : setupClosed());
    });

    // The HTML form posts here; validation problems re-render the form with the message.
    app.post('/setup', {
      config: { access: 'public' },
      schema: { hide: true, body: Type.Record(Type.String(), Type.String()) },
      attachValidation: true,
    }, async (request, reply) => {
      const form = (request.body ?? {}) as Record<string, string>;
      const token = form.token ?? '';
      const values = { email: form.email, name: form.name, organizationName: form.organizationName };
      const problem = !form.organizationName?.trim() || !form.name?.trim()
        ? 'Every field is required.'
        : !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(form.email ?? '')
          ? 'Enter a valid email address.'
          : (form.password ?? '').length < 10
            ? 'The password needs at least 10 characters.'
            : null;
      if (problem) return reply.code(400).type('text/html').send(setupForm(token, values, problem));
      try {
        const result = await setup.complete(token, {
          email: form.email!, name: form.name!, password: form.password!, organizationName: form.organizationName!,
        }, requestActor(request));
        return reply.type('text/html').send(setupDone(result.user.email, result.organization.name));
      } catch (error) {
        if (error instanceof AppError && error.status === 403) return reply.code(403).type('text/html').send(setupClosed());
        if (error instanceof AppError) return reply.code(error.status).type('text/html').send(setupForm(token, values, error.message));
        throw error;
      }
    });

    app.get('/api/v1/setup', {
      config: { access: 'public' },
      schema: { tags: ['setup'], summary: 'Whether first-run setup is still needed', response: { 200: Type.Object({ required: Type.Boolean() }) } },
    }, async () => ({ required: await setup.isRequired() }));

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
