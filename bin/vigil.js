#!/usr/bin/env node
// The `vigil` command: runs the compiled CLI (built by `npm run build`, which `npm start` runs).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/server/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('vigil is not built yet: run `npm run build` (or `npm start`) first');
  process.exit(1);
}
await import(cli);
