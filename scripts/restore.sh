#!/usr/bin/env bash
# Restores a backup made by scripts/backup.sh.
#
#   scripts/restore.sh <backup folder>
#
# A pg_dump backup goes into DATABASE_URL, which must name a new, empty database (createdb), and its media
#   into DATA_DIR/media. Start Vigil on it afterwards: it applies any migration newer than the backup.
# A data-dir backup (bundled PostgreSQL) is unpacked into DATA_DIR, which must be empty or missing.
# See docs/operations.md.
set -euo pipefail

source_dir="${1:?usage: scripts/restore.sh <backup folder>}"
data_dir="${DATA_DIR:-./data}"
if [ ! -f "$source_dir/backup.info" ]; then
  echo "restore: $source_dir is not a backup made by scripts/backup.sh (no backup.info)" >&2
  exit 2
fi
kind="$(sed -n 's/^kind=//p' "$source_dir/backup.info")"

if [ "$kind" = "pg_dump" ]; then
  : "${DATABASE_URL:?restore: set DATABASE_URL to a new, empty database}"
  tables="$(psql "$DATABASE_URL" -Atc "select count(*) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')")"
  if [ "$tables" != "0" ]; then
    echo "restore: the database in DATABASE_URL already has $tables tables; restore into a new, empty database" >&2
    exit 3
  fi
  if [ -d "$source_dir/media" ] && [ -d "$data_dir/media" ] && [ -n "$(ls -A "$data_dir/media")" ]; then
    echo "restore: $data_dir/media already holds files" >&2
    exit 3
  fi
  # One transaction: a failed restore leaves the database empty rather than half restored.
  pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$DATABASE_URL" "$source_dir/database.dump"
  if [ -d "$source_dir/media" ]; then
    mkdir -p "$data_dir"
    cp -a "$source_dir/media" "$data_dir/media.restoring"
    rm -rf "$data_dir/media"
    mv "$data_dir/media.restoring" "$data_dir/media"
  fi
elif [ "$kind" = "data-dir" ]; then
  if [ -e "$data_dir" ] && [ -n "$(ls -A "$data_dir")" ]; then
    echo "restore: $data_dir is not empty; restore into a new folder (DATA_DIR)" >&2
    exit 3
  fi
  mkdir -p "$data_dir"
  tar --extract --gzip --file="$source_dir/data-dir.tar.gz" -C "$data_dir"
else
  echo "restore: unknown backup kind '$kind' in $source_dir/backup.info" >&2
  exit 2
fi
echo "restore: $kind backup from $source_dir restored"
