import { parseArgs } from 'node:util';
import { config as loadDotenv } from 'dotenv';
import pino from 'pino';
import { ConfigError, loadConfig } from './core/config.js';
import { openDatabase } from './core/db/database.js';
import { startEmbeddedPostgres } from './core/db/embedded.js';
import { migrate } from './core/db/migrate.js';
import { loadSecrets } from './core/secrets.js';
import { startRuntime } from './runtime.js';
import { DEMO_USAGE, SIMULATE_USAGE, demoCommand, simulateCommand } from './simulate/commands.js';

const USAGE = `Usage: vigil <command>

Commands:
  serve                 run the HTTP server (and, on the embedded default, the background work and cameras)
  worker                run background work and a share of the cameras only (for scale-out deployments)
  migrate               apply pending database migrations and exit
  user create           create a user who owns a new organization
      --email <email> --name <name> --org <organization name> [--superadmin]
      the password is read from VIGIL_PASSWORD or standard input
${SIMULATE_USAGE}
${DEMO_USAGE}

Configuration comes from environment variables or a .env file; see the README.`;

async function main(argv: string[]): Promise<number> {
  loadDotenv({ quiet: true });
  const [command, sub] = argv;
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  const config = loadConfig();
  const logger = pino({ level: config.logLevel });

  if (command === 'serve' || command === 'worker') {
    const cameras = command === 'worker' || config.serveDecodesCameras;
    const jobs = command === 'worker' || config.serveRunsJobs;
    const runtime = await startRuntime(config, { logger, jobs, mqttBroker: command === 'serve', cameras });
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      await runtime.close();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
    if (command === 'worker') {
      logger.info({ worker: runtime.cameraLeases.workerId }, 'worker started: running background jobs (each tick leased through the database) and its share of the cameras; devices connect to `vigil serve`');
      return -1;
    }
    await runtime.app.listen({ port: config.port, host: config.host });
    const setupUrl = await runtime.services.setup.prepare();
    console.log(`\nVigil is running at ${config.publicUrl}  (API docs: ${config.publicUrl}/docs)`);
    if (setupUrl) {
      console.log(`\nFirst run: open this one-time link to create the administrator and your organization:\n  ${setupUrl}\n`);
    } else {
      console.log(`Sign in at ${config.publicUrl}/login. Lost the administrator account? \`vigil user create\` adds one.\n`);
    }
    return -1;
  }

  if (command === 'migrate') {
    const secrets = loadSecrets(config);
    const embedded = config.databaseUrl
      ? undefined
      : await startEmbeddedPostgres({ dataDir: config.dataDir, password: secrets.embeddedDatabasePassword, logger });
    const database = openDatabase(config.databaseUrl ?? embedded!.url, 2);
    try {
      const applied = await migrate(database.pool, logger);
      console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database is up to date');
    } finally {
      await database.close();
      await embedded?.stop();
    }
    return 0;
  }

  if (command === 'user' && sub === 'create') {
    const { values } = parseArgs({
      args: argv.slice(2),
      options: { email: { type: 'string' }, name: { type: 'string' }, org: { type: 'string' }, superadmin: { type: 'boolean', default: false } },
    });
    const missing = (['email', 'name', 'org'] as const).filter((k) => !values[k]);
    if (missing.length) {
      console.error(`missing ${missing.map((m) => `--${m}`).join(', ')}\n\n${USAGE}`);
      return 2;
    }
    const password = process.env.VIGIL_PASSWORD ?? (await readStdin()).trim();
    if (password.length < 10) {
      console.error('the password (VIGIL_PASSWORD or standard input) needs at least 10 characters');
      return 2;
    }
    const runtime = await startRuntime(config, { logger });
    try {
      const result = await runtime.services.setup.createUserWithOrganization(
        { email: values.email!, name: values.name!, organizationName: values.org!, password, superadmin: values.superadmin },
        { userId: null, label: 'cli', ip: null, userAgent: 'vigil-cli' },
      );
      console.log(`created ${result.user.email}${result.user.isSuperadmin ? ' (platform administrator)' : ''}, owner of "${result.organization.name}"`);
    } finally {
      await runtime.close();
    }
    return 0;
  }

  if (command === 'simulate') return simulateCommand(argv.slice(1), config);
  if (command === 'demo') return demoCommand(argv.slice(1), config, logger);

  console.error(`unknown command: ${argv.join(' ')}\n\n${USAGE}`);
  return 2;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError) console.error(error.message);
    else console.error(`vigil: ${(error as Error).message ?? error}`);
    process.exit(1);
  },
);
