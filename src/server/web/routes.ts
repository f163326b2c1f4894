import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

/** `dist/web`, where `vite build` writes the console: three folders up from src/server/web and from dist/server/web alike. */
export const DEFAULT_WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/web');

const SERVER_PREFIXES = ['/api', '/v1'];
const SERVER_PAGES = ['/health', '/ready', '/metrics'];

/**
 * True for paths the server answers itself (the API, its documentation, operations endpoints,
 * device protocols). Every other GET is a page of the console, which routes on the client — the
 * setup, invitation and password reset links included.
 */
export function servedByServer(pathname: string): boolean {
  if (pathname.startsWith('/docs')) return true;
  if (SERVER_PREFIXES.some((prefix) => pathname === prefix || pathname.startsWith(`${prefix}/`))) return true;
  return SERVER_PAGES.some((page) => pathname === page || pathname.startsWith(`${page}/`));
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vigil</title></head>
<body><main><h1>The web console is not built</h1><p>Run <code>npm run build</code> (or <code>npx vite build</code>), then restart
Vigil. The API is available meanwhile; see <a href="/docs">/docs</a>.</p></main></body></html>`;

/**
 * Serves the web console built into `dist/web`: hashed files under `/assets/` (cached for a year),
 * the files at the build's top level (icon, theme script), and `index.html` for every other GET that
 * is not the server's own, so deep links and reloads of client-side routes work.
 */
export function webRoutes(options: { root?: string } = {}) {
  const root = options.root ?? DEFAULT_WEB_ROOT;
  return async function routes(app: FastifyInstance): Promise<void> {
    const built = fs.existsSync(path.join(root, 'index.html'));
    if (!built) app.log.warn({ root }, 'the web console is not built (npm run build); its pages answer 503');
    else await app.register(fastifyStatic, { root, serve: false });
    // Top-level files of the build other than index.html, read once: the build does not change under a running server.
    const topLevel = new Set(built ? fs.readdirSync(root, { withFileTypes: true }).filter((e) => e.isFile() && e.name !== 'index.html').map((e) => e.name) : []);

    const notFound = (reply: FastifyReply) => reply.callNotFound();
    const page = (reply: FastifyReply) => {
      if (!built) return reply.code(503).type('text/html').header('cache-control', 'no-store').send(NOT_BUILT);
      // Always revalidated, so a new build's asset names are picked up at the next load.
      return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
    };

    app.get('/assets/*', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
      const name = (request.params as { '*': string })['*'];
      if (!built || name === '' || name.includes('..')) return notFound(reply);
      const file = path.join(root, 'assets', name);
      if (!fs.existsSync(file)) return notFound(reply);
      return reply.sendFile(path.join('assets', name), { immutable: true, maxAge: '365d' });
    });

    app.get('/', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => page(reply));

    app.get('/*', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
      const pathname = request.url.split('?')[0] ?? '/';
      if (servedByServer(pathname)) return notFound(reply);
      const name = pathname.slice(1);
      if (topLevel.has(name)) return reply.sendFile(name, { maxAge: '1h' });
      // A missing file (favicon.ico, an old asset name) is a 404, not the console.
      if (/\.[a-z0-9]+$/i.test(name)) return notFound(reply);
      return page(reply);
    });
  };
}
