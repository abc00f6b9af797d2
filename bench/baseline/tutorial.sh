#!/usr/bin/env bash
# The hand-typed baseline for a whole first run (the tutorial's steps, no human time in it):
# role and database with psql, the URL in .env, the driver and Alembic with one `uv add`,
# `alembic init -t async`, a prepared env.py copied over the generated one, then autogenerate
# and upgrade. Superuser credentials come from PG* variables.
set -euo pipefail
: "${APP_USER:?}" "${APP_DB:?}" "${APP_PASSWORD:?}" "${PROJECT_DIR:?}" "${ENV_PY:?}"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE USER $APP_USER WITH PASSWORD '$APP_PASSWORD';"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $APP_DB OWNER $APP_USER;"
cd "$PROJECT_DIR"
export DATABASE_URL="postgresql+psycopg://$APP_USER:$APP_PASSWORD@$PGHOST:$PGPORT/$APP_DB"
echo "DATABASE_URL=\"$DATABASE_URL\"" >> .env
uv add -q "psycopg[binary]" alembic
uv run alembic init -t async alembic >/dev/null
cp "$ENV_PY" alembic/env.py
uv run alembic revision --autogenerate -m "initial schema" >/dev/null
uv run alembic upgrade head
