import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { principalOf, scopeOf } from '../core/access.js';
import { Page, PageQuery } from '../core/pagination.js';
import { errors, IdParams, NoContent, Uuid } from '../core/http/schemas.js';
import { requestActor } from '../audit/service.js';
import { presentRule } from './present.js';
import type { AlertRulesService } from './rules-service.js';
import { Condition, Rule, RuleFields, RuleScope } from './schemas.js';

const RankedRule = Type.Object({
  priority: Type.Integer({ description: '1 device, 2 site, 3 organization, 4 global' }),
  overridden: Type.Boolean({ description: 'Not in force for this device: disabled, or a more specific rule watches the same metric' }),
  rule: Rule,
});

export function alertRuleRoutes(rules: AlertRulesService) {
  return async function routes(base: FastifyInstance): Promise<void> {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['alert rules'];

    app.get('/api/v1/alert-rules', {
      config: { access: 'alertrule.read' },
      schema: {
        tags,
        summary: 'Alert rules of your organization and the global ones, by name',
        querystring: Type.Intersect([PageQuery, Type.Object({
          scope: Type.Optional(RuleScope), condition: Type.Optional(Condition), enabled: Type.Optional(Type.Boolean()),
          deviceId: Type.Optional(Uuid), siteId: Type.Optional(Uuid), search: Type.Optional(Type.String({ maxLength: 200 })),
        })]),
        response: { 200: Page(Rule), ...errors(400, 401, 403) },
      },
    }, async (request) => {
      const page = await rules.list(scopeOf(request), request.query);
      return { items: page.items.map(presentRule), nextCursor: page.nextCursor };
    });

    app.post('/api/v1/alert-rules', {
      config: { access: 'alertrule.write' },
      schema: {
        tags,
        summary: 'Create an alert rule (global rules: platform administrators only)',
        body: Type.Object(RuleFields),
        response: { 201: Rule, ...errors(400, 401, 403) },
      },
    }, async (request, reply) => {
      const rule = await rules.create(scopeOf(request), principalOf(request), request.body, requestActor(request));
      return reply.code(201).send(presentRule(rule));
    });

    app.get('/api/v1/alert-rules/:id', {
      config: { access: 'alertrule.read' },
      schema: { tags, summary: 'One alert rule', params: IdParams, response: { 200: Rule, ...errors(401, 403, 404) } },
    }, async (request) => presentRule(await rules.get(scopeOf(request), request.params.id)));

    app.patch('/api/v1/alert-rules/:id', {
      config: { access: 'alertrule.write' },
      schema: {
        tags,
        summary: 'Change an alert rule (the scope stays)',
        params: IdParams,
        body: Type.Partial(Type.Object(RuleFields), { minProperties: 1 }),
        response: { 200: Rule, ...errors(400, 401, 403, 404) },
      },
    }, async (request) => presentRule(await rules.update(scopeOf(request), principalOf(request), request.params.id, request.body, requestActor(request))));

    app.delete('/api/v1/alert-rules/:id', {
      config: { access: 'alertrule.write' },
      schema: { tags, summary: 'Delete an alert rule; its alerts stay as history', params: IdParams, response: { 204: NoContent, ...errors(401, 403, 404) } },
    }, async (request, reply) => {
      await rules.remove(scopeOf(request), principalOf(request), request.params.id, requestActor(request));
      return reply.code(204).send(null);
    });

    app.get('/api/v1/devices/:id/effective-rules', {
      config: { access: 'alertrule.read' },
      schema: {
        tags,
        summary: 'The rules that could apply to a device, most specific first, with those priority overrides marked',
        params: IdParams,
        response: { 200: Type.Object({ deviceId: Uuid, rules: Type.Array(RankedRule) }), ...errors(401, 403, 404) },
      },
    }, async (request) => {
      const result = await rules.effectiveFor(scopeOf(request), request.params.id);
      return { deviceId: result.deviceId, rules: result.rules.map((r) => ({ priority: r.priority, overridden: r.shadowed, rule: presentRule(r.rule) })) };
    });
  };
}
