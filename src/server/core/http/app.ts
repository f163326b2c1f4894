import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { AppContext } from '../context.js';
import { accessHook, type Authenticator, type DeviceAuthenticator } from '../access.js';
import { isDatabaseUnavailable } from '../db/database.js';
import { readYourWrites } from '../db/read-your-writes.js';
import { AppError, type FieldError } from './errors.js';
import { requestLogSerializers } from './log-redaction.js';
import { securityHeaders, tileImageSource } from './security-headers.js';

export type DomainPlugin = (app: FastifyInstance) => Promise<void>;

export interface RouteRecord {
  method: string;
  url: string;
  access: string | undefined;
}

/**
 * Builds the HTTP server: shared plugins, the error shape, access control, OpenAPI, metrics. Domains
 * come in as plugins; `routes` records every registered route so tests can check each has a rule.
 */
export async function createHttpApp(
  ctx: AppContext,
  authenticators: { users: Authenticator; devices: DeviceAuthenticator },
  domains: DomainPlugin[],
) {
  const app = Fastify({
    // Request and error lines with the one-time secrets of URLs (tokens, signed upload paths) removed.
    loggerInstance: ctx.logger.child({}, { serializers: requestLogSerializers }),
    trustProxy: ctx.config.trustProxy,
    bodyLimit: ctx.config.bodyLimitBytes,
    // Signed upload URLs carry their token in the path.
    routerOptions: { maxParamLength: 1000 },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w-]{1,100}$/.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorFor);

  const routes: RouteRecord[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method, url: route.url, access: route.config?.access });
  });

  app.decorateRequest('principal', null);
  app.decorateRequest('scope', null);
  app.decorateRequest('device', null);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    ctx.metrics.httpDuration
      .labels(request.method, request.routeOptions.url ?? 'unmatched', String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
  });

  const headers = securityHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:', 'https:', tileImageSource(ctx.config.mapTiles.url)],
        styleSrc: ["'self'", "'unsafe-inline'"],
        scriptSrc: ["'self'"],
        connectSrc: ["'self'"],
      },
    },
    // /health is fetched cross-origin by RushRoster devices' settings page (it sets its own policy).
    crossOriginResourcePolicy: { policy: 'same-site' },
  });
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  await app.register(cookie);
  if (ctx.replica.state().configured) {
    const hooks = readYourWrites(ctx.replica, ctx.config.publicUrl.startsWith('https://'));
    app.addHook('onRequest', hooks.onRequest);
    app.addHook('onSend', hooks.onSend);
  }
  await app.register(formbody);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Vigil API', version: '1', description: 'Vigil: a multi-tenant cloud for fleets of field monitoring devices.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'vigil_session' },
          bearer: { type: 'http', scheme: 'bearer' },
          deviceKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.addHook('onRequest', accessHook(authenticators.users, authenticators.devices));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith('/api/') || request.url === '/api') {
      return reply.code(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
    }
    return reply.code(404).type('text/plain').send('Not found');
  });

  for (const domain of domains) await app.register(domain);
  await app.ready();
  return { app, routes };
}

function errorHandler(error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof AppError) {
    if (error.headers) reply.headers(error.headers);
    return reply.code(error.status).send({ error: { code: error.code, message: error.message, details: error.details } });
  }
  if (error.validation) {
    const details: FieldError[] = error.validation.map((v) => ({
      field: fieldName(error.validationContext, v.instancePath, v.params as Record<string, unknown>),
      message: v.message ?? 'is not valid',
    }));
    const message = details.map((d) => `${d.field}: ${d.message}`).join('; ');
    return reply.code(400).send({ error: { code: 'validation_failed', message, details } });
  }
  const databaseCode = (error as { code?: string }).code;
  if (databaseCode === '40P01' || databaseCode === '40001' || databaseCode === '53300') {
    // Nothing was written (the transaction rolled back): the client may safely send the same request again.
    reply.headers({ 'retry-after': '1' });
    return reply.code(503).send({ error: { code: 'busy', message: 'the database is busy; retry in a second' } });
  }
  if (isDatabaseUnavailable(error)) {
    // The connection was lost or refused: unacknowledged, so a device or browser sends the same request again.
    reply.headers({ 'retry-after': '5' });
    return reply.code(503).send({ error: { code: 'database_unavailable', message: 'the database is unreachable; retry in a few seconds' } });
  }
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) {
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ error: { code: 'internal', message: 'internal server error' } });
  }
  return reply.code(status).send({ error: { code: (error.code ?? 'bad_request').toLowerCase(), message: error.message } });
}

/**
 * Query strings and path parameters are text, so their values are coerced to the schema's types;
 * JSON bodies are not: `"speed": "42"` is a type error, not a number.
 */
const ajvOptions = { allErrors: true, removeAdditional: true, useDefaults: true } as const;
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv;
const coercing = addFormats(new Ajv({ ...ajvOptions, coerceTypes: 'array' }));
const strict = addFormats(new Ajv({ ...ajvOptions, coerceTypes: false }));
for (const ajv of [coercing, strict]) ajv.addKeyword('example');

function validatorFor({ schema, httpPart }: { schema: object; httpPart?: string }) {
  return httpPart === 'body' ? strict.compile(schema) : finiteOnly(coercing.compile(schema));
}

/**
 * Ajv coerces "Infinity" or "1e999" in a query string or a path to Infinity and then skips the
 * schema's minimum and maximum (it checks them on finite numbers only): such a value is refused here,
 * before a handler passes it on to SQL.
 */
function finiteOnly(validate: ValidateFunction): ValidateFunction {
  const checked = ((data: unknown, context?: Parameters<ValidateFunction>[1]) => {
    if (!validate(data, context)) {
      checked.errors = validate.errors;
      return false;
    }
    const values = data !== null && typeof data === 'object' ? Object.entries(data) : [];
    const infinite = values.find(([, v]) => (Array.isArray(v) ? v : [v]).some((x) => typeof x === 'number' && !Number.isFinite(x)));
    checked.errors = infinite ? [{ instancePath: `/${infinite[0]}`, schemaPath: '#/type', keyword: 'type', params: {}, message: 'must be a finite number' }] : null;
    return !infinite;
  }) as ValidateFunction;
  // Fastify hands Ajv the request as parent data (so that a coerced root replaces it) when it sees this.
  return Object.assign(checked, { schemaEnv: validate.schemaEnv, schema: validate.schema });
}

function fieldName(context: string | undefined, instancePath: string, params: Record<string, unknown>): string {
  const path = instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing = typeof params.missingProperty === 'string' ? params.missingProperty : undefined;
  const extra = typeof params.additionalProperty === 'string' ? params.additionalProperty : undefined;
  const leaf = [path, missing ?? extra].filter(Boolean).join('.');
  return leaf || context || 'body';
}
