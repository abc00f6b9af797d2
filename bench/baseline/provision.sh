#!/usr/bin/env bash
# The hand-typed baseline for a first provisioning (tutorial step 3 + .env + .gitignore + a check):
# what a person runs with psql/createdb. Superuser credentials come from PG* variables.
set -euo pipefail
: "${APP_USER:?}" "${APP_DB:?}" "${APP_PASSWORD:?}" "${PROJECT_DIR:?}"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE USER $APP_USER WITH PASSWORD '$APP_PASSWORD';"
createdb -O "$APP_USER" "$APP_DB"
cd "$PROJECT_DIR"
echo "DATABASE_URL=\"postgresql+psycopg://$APP_USER:$APP_PASSWORD@$PGHOST:$PGPORT/$APP_DB\"" >> .env
chmod 600 .env
echo "DATABASE_URL=\"postgresql+psycopg://USER:PASSWORD@localhost:5432/DBNAME\"" >> .env.example
echo ".env" >> .gitignore
PGPASSWORD="$APP_PASSWORD" psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$APP_USER" -d "$APP_DB" \
  -c 'CREATE TABLE pg_setup_check (id int); DROP TABLE pg_setup_check;'
