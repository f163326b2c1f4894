// Copies the non-TypeScript files the server needs (SQL migrations) next to the compiled code.
import { cpSync } from 'node:fs';

cpSync('src/server/core/db/migrations', 'dist/server/core/db/migrations', { recursive: true });
