#!/usr/bin/env bash
# The hand-typed baseline for an idempotent re-run: check each thing, change nothing that is there.
set -euo pipefail
: "${APP_USER:?}" "${APP_DB:?}" "${APP_PASSWORD:?}" "${PROJECT_DIR:?}"
[ "$(psql -X -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$APP_USER'")" = 1 ] || psql -X -q -c "CREATE USER $APP_USER WITH PASSWORD '$APP_PASSWORD';"
[ "$(psql -X -tAc "SELECT 1 FROM pg_database WHERE datname = '$APP_DB'")" = 1 ] || createdb -O "$APP_USER" "$APP_DB"
cd "$PROJECT_DIR"
grep -q '^DATABASE_URL=' .env || echo "DATABASE_URL=\"postgresql+psycopg://$APP_USER:$APP_PASSWORD@$PGHOST:$PGPORT/$APP_DB\"" >> .env
grep -q '^DATABASE_URL=' .env.example || echo 'DATABASE_URL="postgresql+psycopg://USER:PASSWORD@localhost:5432/DBNAME"' >> .env.example
grep -qx '.env' .gitignore || echo ".env" >> .gitignore
PGPASSWORD="$APP_PASSWORD" psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$APP_USER" -d "$APP_DB" \
  -c 'CREATE TABLE pg_setup_check (id int); DROP TABLE pg_setup_check;'
