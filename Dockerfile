# syntax=docker/dockerfile:1
# Vigil's production image: one image, two roles.
#   docker run … vigil            → `vigil serve`  (HTTP API, console, live stream; health check on /ready)
#   docker run … vigil worker     → `vigil worker` (background jobs, cameras, the external MQTT broker's share)
#   docker run … vigil migrate    → applies the database migrations and exits (a deploy step)
# See deploy/compose.yaml for a whole deployment and docs/operations.md for upgrades and backups.

# The current Node.js LTS on Debian. Any Debian-based Node image with npm works (e.g. a mirror's copy).
ARG NODE_IMAGE=node:26-bookworm-slim

# ---- build: dev dependencies, TypeScript and the console bundle ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# .npmrc skips onnxruntime-node's CUDA download; package.json's allowScripts lists the install scripts needed.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json vite.config.ts ./
COPY scripts/copy-assets.js scripts/
COPY src src
RUN npm run build

# ---- runtime: production dependencies, the build output and Debian's ffmpeg ----
FROM ${NODE_IMAGE} AS runtime
# ffmpeg decodes camera streams and checks placeholder videos (ffprobe); Debian's, not a downloaded build.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A fixed, unprivileged user: the bundled PostgreSQL (used when DATABASE_URL is unset) refuses to run as root.
RUN groupadd --system --gid 10001 vigil \
 && useradd --system --uid 10001 --gid vigil --home-dir /var/lib/vigil --shell /usr/sbin/nologin vigil \
 && mkdir -p /var/lib/vigil && chown vigil:vigil /var/lib/vigil
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin bin
COPY --from=build /src/dist dist
USER vigil
# Listen on every interface of the container; state (the bundled database, generated secrets, local media)
# lives in DATA_DIR, a volume. Production sets DATABASE_URL, S3_* and REDIS_URL instead of keeping state here.
ENV HOST=0.0.0.0 PORT=3000 DATA_DIR=/var/lib/vigil
VOLUME ["/var/lib/vigil"]
EXPOSE 3000
# /ready answers 200 only while the database is reachable. `vigil worker` serves no HTTP: its compose
# service turns this check off (a dead worker's leases pass to another worker on their own).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM reaches node directly (no shell in between): Vigil drains and stops its bundled PostgreSQL.
ENTRYPOINT ["node", "bin/vigil.js"]
CMD ["serve"]
