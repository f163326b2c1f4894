import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/http/errors.js';
import { field, messagePage, tokenForm } from '../core/http/html.js';
import { requestActor } from '../audit/service.js';
import type { IdentityService } from './service.js';

/** `/reset-password?token=`: the page a reset email links to (interim, until the web console serves it). */
export function passwordResetPages(identity: IdentityService) {
  return async function routes(app: FastifyInstance): Promise<void> {
    const form = (token: string, error?: string) =>
      tokenForm({
        title: 'Choose a new password',
        intro: 'This link works once, for one hour. Signing in elsewhere ends when you change the password.',
        action: '/reset-password',
        token,
        fields: field('newPassword', 'New password (at least 10 characters)', 'type="password" required minlength="10" maxlength="256" autocomplete="new-password"'),
        submit: 'Set password',
        error,
      });

    app.get<{ Querystring: { token?: string } }>('/reset-password', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) =>
      reply.type('text/html').send(form(String(request.query.token ?? ''))));

    app.post<{ Body: Record<string, string> }>('/reset-password', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
      const { token = '', newPassword = '' } = request.body ?? {};
      if (newPassword.length < 10 || newPassword.length > 256) {
        return reply.code(400).type('text/html').send(form(token, 'The password needs at least 10 characters.'));
      }
      try {
        await identity.confirmPasswordReset(token, newPassword, requestActor(request));
        return reply.type('text/html').send(messagePage('Password changed', 'Your password is changed. Sign in with the new one.'));
      } catch (error) {
        if (error instanceof AppError) return reply.code(error.status).type('text/html').send(form(token, error.message));
        throw error;
      }
    });
  };
}
