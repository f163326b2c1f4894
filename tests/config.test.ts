import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/server/core/config.js';
import { CliProcess } from './helpers/process.js';

const GOOD_KEY = 'a'.repeat(64);

/** The problems `loadConfig` reports for `env`, or [] when it accepts it. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
}

describe('configuration from the environment', () => {
  it('starts from working defaults with no variables at all', () => {
    const config = loadConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.publicUrl, 'http://localhost:3000');
    assert.equal(config.dataDir, path.resolve('./data'));
    assert.equal(config.databaseUrl, undefined, 'the bundled PostgreSQL');
    assert.equal(config.redisUrl, undefined, 'the in-process bus');
    assert.equal(config.redisPrefix, 'vigil');
    assert.equal(config.smtp, undefined);
    assert.equal(config.secretKey, undefined, 'generated into the data folder');
    assert.equal(config.encryptionKey, undefined);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.trustProxy, false);
    assert.equal(config.databasePoolSize, 10);
    assert.equal(config.streamHeartbeatSeconds, 15);
    assert.equal(config.rateLimits.loginPerAccount, 100);
    assert.equal(config.rateLimits.loginFailuresPerClient, 5);
  });

  it('reads good values, trims them, and treats empty ones as unset', () => {
    const config = loadConfig({
      PORT: ' 8080 ',
      HOST: '0.0.0.0',
      PUBLIC_URL: 'https://vigil.example.com/',
      DATA_DIR: '/var/lib/vigil',
      DATABASE_URL: 'postgresql://vigil:pw@db:5432/vigil',
      REDIS_URL: 'rediss://cache:6380',
      SECRET_KEY: 's'.repeat(32),
      ENCRYPTION_KEY: GOOD_KEY.toUpperCase(),
      LOG_LEVEL: 'debug',
      TRUST_PROXY: 'yes',
      SMTP_HOST: 'smtp.example.com',
      SMTP_PORT: '465',
      SMTP_FROM: 'Vigil <vigil@example.com>',
      STREAM_HEARTBEAT_SECONDS: '',
    });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.publicUrl, 'https://vigil.example.com', 'no trailing slash');
    assert.equal(config.dataDir, '/var/lib/vigil');
    assert.equal(config.databaseUrl, 'postgresql://vigil:pw@db:5432/vigil');
    assert.equal(config.redisUrl, 'rediss://cache:6380');
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.trustProxy, true);
    assert.deepEqual(config.smtp, { host: 'smtp.example.com', port: 465, secure: true, user: undefined, password: undefined, from: 'Vigil <vigil@example.com>' });
    assert.equal(config.streamHeartbeatSeconds, 15);
    assert.equal(config.mqttTopicPrefix, 'vigil');
    assert.equal(config.serveRunsJobs, true);
    assert.deepEqual([loadConfig({ MQTT_TOPIC_PREFIX: 'acme/vigil' }).mqttTopicPrefix, loadConfig({ SERVE_RUNS_JOBS: 'false' }).serveRunsJobs], ['acme/vigil', false]);
    assert.equal(loadConfig({ PORT: '4000' }).publicUrl, 'http://localhost:4000', 'the public URL follows PORT');
  });

  const cases: [string, Record<string, string>, RegExp][] = [
    ['PORT=abc', { PORT: 'abc' }, /^PORT must be an integer between 0 and 65535 \(got "abc"\)$/],
    ['PORT=70000', { PORT: '70000' }, /^PORT must be an integer between 0 and 65535 \(got "70000"\)$/],
    ['LOG_LEVEL=loud', { LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "loud"\)$/],
    ['DATABASE_URL=mysql://x', { DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must use postgres: or postgresql: \(got "mysql:"\)$/],
    ['DATABASE_URL=not a url', { DATABASE_URL: 'not a url' }, /^DATABASE_URL is not a valid URL$/],
    ['SECRET_KEY=short', { SECRET_KEY: 'short' }, /^SECRET_KEY must be at least 32 characters/],
    ['ENCRYPTION_KEY=zz', { ENCRYPTION_KEY: 'zz' }, /^ENCRYPTION_KEY must be 64 hexadecimal characters/],
    ['SMTP_HOST without SMTP_FROM', { SMTP_HOST: 'smtp.example.com' }, /^SMTP_FROM is required when SMTP_HOST is set/],
    ['TRUST_PROXY=maybe', { TRUST_PROXY: 'maybe' }, /^TRUST_PROXY must be true or false \(got "maybe"\)$/],
    ['MQTT_TOPIC_PREFIX=site/#', { MQTT_TOPIC_PREFIX: 'site/#' }, /^MQTT_TOPIC_PREFIX must be topic levels without wildcards/],
    ['MQTT_TOPIC_PREFIX=$SYS', { MQTT_TOPIC_PREFIX: '$SYS' }, /^MQTT_TOPIC_PREFIX must be topic levels without wildcards/],
    ['MQTT_TOPIC_PREFIX=acme//vigil', { MQTT_TOPIC_PREFIX: 'acme//vigil' }, /^MQTT_TOPIC_PREFIX must be topic levels without wildcards/],
    ['SERVE_RUNS_JOBS=sometimes', { SERVE_RUNS_JOBS: 'sometimes' }, /^SERVE_RUNS_JOBS must be true or false/],
  ];
  for (const [label, env, expected] of cases) {
    it(`${label} is refused with its own message`, () => {
      const problems = problemsOf(env);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0]!, expected);
    });
  }

  it('reports every problem together in one error', () => {
    const env = {
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://x',
      SECRET_KEY: 'short',
      ENCRYPTION_KEY: 'zz',
      SMTP_HOST: 'smtp.example.com',
    };
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 6, JSON.stringify(error.problems));
    for (const name of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'SECRET_KEY', 'ENCRYPTION_KEY', 'SMTP_FROM']) {
      assert.equal(error.problems.filter((p) => p.startsWith(`${name} `)).length, 1, `one message about ${name}`);
    }
    assert.match(error.message, /^Invalid configuration:\n/);
    for (const problem of error.problems) assert.ok(error.message.includes(`  - ${problem}`), `the message lists "${problem}"`);
  });

  it('`vigil serve` with bad variables exits non-zero, prints every problem and touches nothing', { timeout: 60_000 }, async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-config-'));
    const dataDir = path.join(parent, 'data');
    try {
      const cli = new CliProcess(['serve'], { PORT: 'abc', LOG_LEVEL: 'loud', DATA_DIR: dataDir });
      try {
        assert.equal(await cli.exitWithin(30_000), true, `still running:\n${cli.output()}`);
      } finally {
        cli.killGroup();
      }
      assert.notEqual(cli.exitCode, 0);
      assert.match(cli.stderr, /Invalid configuration:/);
      assert.match(cli.stderr, /PORT must be an integer between 0 and 65535 \(got "abc"\)/);
      assert.match(cli.stderr, /LOG_LEVEL must be one of .* \(got "loud"\)/);
      assert.doesNotMatch(cli.stderr, /\n\s+at /, 'a message, not a stack trace');
      assert.equal(fs.existsSync(dataDir), false, 'nothing was started or created');
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});
