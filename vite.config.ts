import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The web console (src/web), built into dist/web, which the server serves (src/server/web/routes.ts).
 * `npx vite` runs it with hot reload against a running server (`npm run dev`, or VIGIL_API_URL).
 */
const api = process.env.VIGIL_API_URL ?? 'http://localhost:3000';
const serverPaths = ['/api', '/docs', '/health', '/ready', '/metrics', '/setup', '/invite', '/reset-password'];

export default defineConfig({
  root: 'src/web',
  publicDir: 'public',
  plugins: [react()],
  build: {
    outDir: '../../dist/web',
    emptyOutDir: true,
    sourcemap: true,
    // dist/web/.vite/manifest.json: which files each route loads (bench/web.ts weighs them; not served).
    manifest: true,
    target: 'es2022',
    chunkSizeWarningLimit: 800,
  },
  server: {
    port: 5173,
    proxy: Object.fromEntries(serverPaths.map((path) => [path, { target: api }])),
  },
});
