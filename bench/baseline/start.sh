#!/usr/bin/env bash
# The hand-typed baseline for "stopped cluster to ready": start it, then check a login works.
set -euo pipefail
: "${DATA_DIR:?}" "${BIN_DIR:?}" "${PGPORT:?}" "${PGPASSWORD:?}"
as_owner=(); [ "$(id -u)" = 0 ] && as_owner=(runuser -u "$(stat -c %U "$DATA_DIR")" --)
"${as_owner[@]}" "$BIN_DIR/pg_ctl" start -D "$DATA_DIR" -l "$DATA_DIR/../postgres.log" -w -s
"$BIN_DIR/psql" -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c 'SELECT 1' >/dev/null
