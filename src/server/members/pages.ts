import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/http/errors.js';
import { field, messagePage, tokenForm } from '../core/http/html.js';
import { requestActor } from '../audit/service.js';
import type { MembersService } from './service.js';

/** `/invite?token=`: the page an invitation email links to (interim, until the web console serves it). */
export function invitationPages(members: MembersService) {
  return async function routes(app: FastifyInstance): Promise<void> {
    const form = (token: string, name = '', error?: string) =>
      tokenForm({
        title: 'Join your team on Vigil',
        intro: 'Choose your name and a password. If you already have a Vigil account, enter its password to add this organization to it.',
        action: '/invite',
        token,
        fields: field('name', 'Your name', 'required maxlength="200" autocomplete="name"', name) +
          field('password', 'Password (at least 10 characters)', 'type="password" required minlength="10" maxlength="256" autocomplete="new-password"'),
        submit: 'Join',
        error,
      });

    app.get<{ Querystring: { token?: string } }>('/invite', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) =>
      reply.type('text/html').send(form(String(request.query.token ?? ''))));

    app.post<{ Body: Record<string, string> }>('/invite', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
      const { token = '', name = '', password = '' } = request.body ?? {};
      if (!name.trim() || password.length < 10) {
        return reply.code(400).type('text/html').send(form(token, name, 'Enter your name and a password of at least 10 characters.'));
      }
      try {
        const joined = await members.register({ invitationToken: token, name, password }, requestActor(request));
        return reply.type('text/html').send(messagePage('Welcome', `You joined ${joined.organization.name} as ${joined.role}. Sign in with ${joined.user.email}.`));
      } catch (error) {
        if (error instanceof AppError) return reply.code(error.status).type('text/html').send(form(token, name, error.message));
        throw error;
      }
    });
  };
}
