#!/usr/bin/env bash
# Backs up a Vigil deployment into a new folder: its database and its media (photos, thumbnails, POD files).
#
#   scripts/backup.sh <new backup folder>
#
# With DATABASE_URL (an external PostgreSQL): pg_dump while Vigil keeps running (one consistent snapshot),
#   then the media folder DATA_DIR/media. The pg_dump on PATH must be at least the server's major version.
#   Media in a bucket (S3_BUCKET) are not copied here: see docs/operations.md.
# Without DATABASE_URL (the bundled PostgreSQL in DATA_DIR): Vigil must be stopped; DATA_DIR is archived whole
#   (database files, generated secrets, media).
# Restore with scripts/restore.sh. See docs/operations.md.
set -euo pipefail

target="${1:?usage: scripts/backup.sh <new backup folder>}"
data_dir="${DATA_DIR:-./data}"
if [ -e "$target" ] && [ -n "$(ls -A "$target")" ]; then
  echo "backup: $target is not empty" >&2
  exit 2
fi
mkdir -p "$target"

if [ -n "${DATABASE_URL:-}" ]; then
  # Custom format: compressed, restorable table by table, and checked by pg_restore --list below.
  pg_dump --format=custom --no-owner --no-privileges --file="$target/database.dump" "$DATABASE_URL"
  pg_restore --list "$target/database.dump" >/dev/null
  if [ -n "${S3_BUCKET:-}" ]; then
    echo "backup: media are in the bucket $S3_BUCKET; copy it with the store's own tools (docs/operations.md)" >&2
  elif [ -d "$data_dir/media" ]; then
    # Copied after the dump: every photo the dump refers to was stored before its row was committed.
    cp -a "$data_dir/media" "$target/media"
  fi
  server_version="$(psql "$DATABASE_URL" -Atc 'show server_version')"
  kind="pg_dump"
else
  if [ ! -d "$data_dir/pg" ]; then
    echo "backup: no DATABASE_URL and no bundled database in $data_dir (set DATA_DIR)" >&2
    exit 2
  fi
  # A copy of the files of a running PostgreSQL is not a backup: the server must have shut down cleanly.
  if [ -f "$data_dir/pg/postmaster.pid" ] || { [ -f "$data_dir/vigil.lock" ] && kill -0 "$(cat "$data_dir/vigil.lock")" 2>/dev/null; }; then
    echo "backup: Vigil (or its PostgreSQL) is running on $data_dir; stop it first, or back up with DATABASE_URL and pg_dump" >&2
    exit 3
  fi
  tar --create --gzip --file="$target/data-dir.tar.gz" --exclude=./vigil.lock -C "$data_dir" .
  server_version="$(cat "$data_dir/pg/PG_VERSION")"
  kind="data-dir"
fi

printf 'kind=%s\ncreated=%s\npostgresql=%s\n' "$kind" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$server_version" >"$target/backup.info"
echo "backup: $kind backup written to $target"
