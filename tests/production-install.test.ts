/**
 * What the container image runs, proved without a container engine: the files the Dockerfile's runtime
 * stage copies (read from the Dockerfile itself), production dependencies only, started as the image's
 * command does (`node bin/vigil.js serve`) from a folder outside the repository. It must answer /ready and
 * serve the console. Plus static checks of the Dockerfile (no hadolint is packaged in Debian 12).
 *
 * The production tree is the repository's installed packages that `npm ls --omit=dev` lists (the same 248
 * packages `npm ci --omit=dev` installs), hard-linked: a network install of them takes about a minute here,
 * too long for every suite run. `npm run build` must have run first, as in CI.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, dropTestDatabase } from './helpers/app.js';
import { eventually, freePort, REPO_ROOT } from './helpers/process.js';

const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');

/** The Dockerfile's stages by name: their instructions, continuation lines joined. */
function stages(): Map<string, string[]> {
  const result = new Map<string, string[]>();
  let current: string[] = [];
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  for (const line of lines) {
    const from = line.match(/^FROM\s+\S+(?:\s+AS\s+(\S+))?/i);
    if (from) result.set(from[1] ?? `stage${result.size}`, (current = []));
    current.push(line);
  }
  return result;
}

const runtime = stages().get('runtime')!;

/** What the runtime stage copies into /app: from the build context, or the build stage's /src. */
function runtimeFiles(): string[] {
  return runtime
    .filter((line) => /^COPY\s/i.test(line))
    .flatMap((line) => {
      const words = line.split(/\s+/).slice(1);
      const fromBuild = words[0]!.startsWith('--from=');
      const sources = words.filter((word) => !word.startsWith('--')).slice(0, -1);
      return sources.map((source) => (fromBuild ? path.relative('/src', source) : source));
    });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('Dockerfile', () => {
  it('builds in a build stage and runs the build output with production dependencies only, as a non-root user', () => {
    const all = stages();
    assert.deepEqual([...all.keys()], ['build', 'runtime']);
    const build = all.get('build')!.join('\n');
    assert.match(build, /^RUN npm ci\b/m);
    assert.match(build, /^RUN npm run build$/m);
    const run = runtime.join('\n');
    assert.match(run, /^RUN npm ci --omit=dev\b/m);
    assert.doesNotMatch(run, /node_modules/, 'the runtime stage installs its own dependencies, never the build stage\'s');
    assert.match(run, /apt-get install -y --no-install-recommends ffmpeg\b/, 'Debian\'s ffmpeg');
    const user = runtime.filter((line) => /^USER\s/i.test(line)).at(-1);
    assert.ok(user && !/^USER\s+(root|0)(:|$)/i.test(user), `runs as ${user ?? 'root'}`);
    // USER comes before the command, so nothing after it runs as root.
    assert.ok(runtime.indexOf(user) < runtime.findIndex((line) => /^ENTRYPOINT/i.test(line)));
    assert.match(run, /^HEALTHCHECK .*\/ready/m);
    assert.match(run, /^ENTRYPOINT \["node", "bin\/vigil\.js"\]$/m);
    assert.match(run, /^CMD \["serve"\]$/m);
    assert.match(run, /^ENV HOST=0\.0\.0\.0\b/m);
  });

  it('starts from the current Node.js LTS on Debian', () => {
    const base = dockerfile.match(/^ARG NODE_IMAGE=node:(\d+)-(\w+)-slim$/m);
    assert.ok(base, 'ARG NODE_IMAGE=node:<major>-<debian>-slim');
    assert.equal(Number(base[1]) % 2, 0, 'an even (LTS) Node.js major');
    assert.ok(Number(base[1]) >= 24, 'Node.js 24 or later');
    assert.match(base[2]!, /^(bookworm|trixie)$/);
    assert.equal(stages().size, [...dockerfile.matchAll(/^FROM \$\{NODE_IMAGE\}/gm)].length, 'every stage on that image');
  });

  it('has every file it copies in the build context (.dockerignore keeps out only what is built inside)', () => {
    const ignored = fs.readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
    const copied = dockerfile.replace(/\\\n/g, ' ').split('\n').filter((line) => /^COPY\s/.test(line) && !line.includes('--from='))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    for (const source of copied) {
      assert.ok(fs.existsSync(path.join(REPO_ROOT, source)), `${source} exists`);
      assert.ok(!ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `${source} is not in .dockerignore`);
    }
    for (const pattern of ['node_modules', 'dist', 'data', '.env', '.git']) assert.ok(ignored.includes(pattern), `.dockerignore has ${pattern}`);
  });
});

describe('the image\'s files, production dependencies only, started as the image starts them', { timeout: 90_000 }, () => {
  let folder: string;
  let databaseUrl: string | undefined;
  let server: ChildProcess;
  let output = '';
  let base: string;

  before(async () => {
    assert.ok(fs.existsSync(path.join(REPO_ROOT, 'dist', 'web', 'index.html')), 'run `npm run build` before this test');
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-production-'));
    // The bundled PostgreSQL runs as the `postgres` user when the suite runs as root: it must reach DATA_DIR.
    fs.chmodSync(folder, 0o755);
    for (const file of runtimeFiles()) fs.cpSync(path.join(REPO_ROOT, file), path.join(folder, file), { recursive: true });

    const listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 16 << 20 })
      .split('\n').filter((line) => line.startsWith(path.join(REPO_ROOT, 'node_modules') + path.sep)).sort();
    let copied = '';
    for (const source of listed) {
      if (copied && source.startsWith(copied + path.sep)) continue; // copied with its parent package
      const target = path.join(folder, path.relative(REPO_ROOT, source));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      execFileSync('cp', ['-al', source, target]);
      copied = source;
    }

    // A database as a deployment has one: the PostgreSQL service (a fresh database on it) or, without
    // TEST_DATABASE_URL, the bundled PostgreSQL that `vigil serve` starts in DATA_DIR.
    databaseUrl = process.env.TEST_DATABASE_URL ? await createTestDatabase() : undefined;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, ['bin/vigil.js', 'serve'], {
      cwd: folder,
      // Only what the image sets, plus the database: no developer's .env or shell settings.
      env: { PATH: process.env.PATH, HOME: folder, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), DATA_DIR: path.join(folder, 'data'), DATABASE_URL: databaseUrl ?? '', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    server.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const ready = await eventually(async () => server.exitCode !== null || (await fetch(`${base}/ready`).catch(() => undefined))?.status === 200, 60_000, 200);
    assert.ok(ready && server.exitCode === null, `GET /ready never answered 200:\n${output}`);
  });

  after(async () => {
    if (server) await stop(server);
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  it('holds no development dependency and nothing resolves from the repository', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    for (const name of ['typescript', 'tsx', 'vite', 'eslint', 'react', 's3rver', 'playwright-core']) {
      assert.ok(name in manifest.devDependencies, `${name} is a development dependency`);
      assert.ok(!fs.existsSync(path.join(folder, 'node_modules', name)), `${name} is not installed`);
    }
    // Node looks for packages in every parent folder: none of them may have a node_modules.
    for (let dir = path.dirname(folder); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      assert.ok(!fs.existsSync(path.join(dir, 'node_modules')), `${dir}/node_modules would be used`);
    }
    assert.ok(fs.existsSync(path.join(folder, 'node_modules', 'fastify')));
  });

  it('answers /health and /ready, and serves the console with its assets', async () => {
    assert.equal((await fetch(`${base}/health`)).status, 200);
    assert.equal((await fetch(`${base}/ready`)).status, 200);
    const index = await fetch(`${base}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /text\/html/);
    const html = await index.text();
    const script = html.match(/<script[^>]+src="([^"]+\.js)"/);
    assert.ok(script, `the console's index page names its script:\n${html.slice(0, 500)}`);
    const asset = await fetch(new URL(script[1]!, base));
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type') ?? '', /javascript/);
    // A console route (client-side) is served the same page.
    const route = await fetch(`${base}/login`);
    assert.equal(route.status, 200);
    assert.match(await route.text(), /<script[^>]+src="[^"]+\.js"/);
  });

  it('stops cleanly on SIGTERM, as `docker stop` sends it', async () => {
    assert.equal(await stop(server), 0, output);
  });
});
