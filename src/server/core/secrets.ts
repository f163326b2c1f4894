import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';

/** Secrets a deployment needs; the ones not given in the environment are generated once per data folder. */
export interface Secrets {
  secretKey: string;
  encryptionKey: string;
  embeddedDatabasePassword: string;
}

/**
 * Reads `DATA_DIR/secrets.json`, creating it (mode 0600) with fresh random values for anything missing.
 * Values from the environment always win and are never written to disk.
 */
export function loadSecrets(config: Config): Secrets {
  const file = path.join(config.dataDir, 'secrets.json');
  fs.mkdirSync(config.dataDir, { recursive: true });
  let stored: Partial<Secrets> = {};
  if (fs.existsSync(file)) stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Secrets>;
  const generated: Secrets = {
    secretKey: stored.secretKey ?? randomBytes(32).toString('hex'),
    encryptionKey: stored.encryptionKey ?? randomBytes(32).toString('hex'),
    embeddedDatabasePassword: stored.embeddedDatabasePassword ?? randomBytes(24).toString('base64url'),
  };
  if (JSON.stringify(generated) !== JSON.stringify(stored)) {
    fs.writeFileSync(file, JSON.stringify(generated, null, 2), { mode: 0o600 });
  }
  return {
    secretKey: config.secretKey ?? generated.secretKey,
    encryptionKey: config.encryptionKey ?? generated.encryptionKey,
    embeddedDatabasePassword: generated.embeddedDatabasePassword,
  };
}
