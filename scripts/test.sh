#!/usr/bin/env bash
# Install threadstore with every extra into .venv, then run the linters, the
# type checker and the whole test suite against memory, a SQLite file and a
# real PostgreSQL server. Without THREADSTORE_TEST_POSTGRES_URL a throwaway
# local PostgreSQL cluster is installed (Debian package) and started; without
# THREADSTORE_TEST_PGBOUNCER_URL a PgBouncer (transaction pooling) is started
# in front of it for the contract and LangGraph conformance suites.
# Extra arguments go to pytest (one run, instead of the two below).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev,postgres,langgraph]'

if [ -z "${THREADSTORE_TEST_POSTGRES_URL:-}" ]; then
  pgdir=$(mktemp -d /tmp/threadstore-pg.XXXXXX)
  THREADSTORE_TEST_POSTGRES_URL=$(bash scripts/start-postgres.sh "$pgdir")
  export THREADSTORE_TEST_POSTGRES_URL
  stop_postgres() {
    bindir=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)")
    if [ "$(id -u)" = 0 ]; then
      runuser -u postgres -- "$bindir/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null || true
    else
      "$bindir/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null || true
    fi
    rm -rf "$pgdir"
  }
  trap stop_postgres EXIT
fi

if [ -z "${THREADSTORE_TEST_PGBOUNCER_URL:-}" ]; then
  bouncerdir=$(mktemp -d /tmp/threadstore-pgbouncer.XXXXXX)
  THREADSTORE_TEST_PGBOUNCER_URL=$(bash scripts/start-pgbouncer.sh "$bouncerdir" "$THREADSTORE_TEST_POSTGRES_URL")
  export THREADSTORE_TEST_PGBOUNCER_URL
  stop_pgbouncer() {
    kill "$(cat "$bouncerdir/pgbouncer.pid")" 2>/dev/null || true
    rm -rf "$bouncerdir"
  }
  if [ -n "${pgdir:-}" ]; then
    trap 'stop_pgbouncer; stop_postgres' EXIT
  else
    trap stop_pgbouncer EXIT
  fi
fi

echo "== ruff"
.venv/bin/ruff check src tests alembic bench
.venv/bin/ruff format --check src tests alembic bench
echo "== mypy --strict"
.venv/bin/mypy src
if [ "$#" -gt 0 ]; then
  echo "== pytest $*"
  .venv/bin/python -m pytest "$@"
  exit
fi
# SQLite on the stdlib sqlite3 (what a user without the sqlite-vec extra runs),
# then the sqlite-vec extra's tests and the SQLite suites again on pysqlite3
# with the extension loaded (THREADSTORE_SQLITE_VEC picks the process's driver).
# Worker processes (pytest-xdist): every test owns its databases, so they never meet.
workers=(-n "${THREADSTORE_TEST_WORKERS:-auto}")
echo "== pytest (SQLite on the stdlib sqlite3)"
THREADSTORE_SQLITE_VEC=0 .venv/bin/python -m pytest "${workers[@]}" \
  --ignore=tests/langgraph/test_store_sqlite_vec.py
echo "== pytest (SQLite on pysqlite3 with sqlite-vec)"
THREADSTORE_SQLITE_VEC=1 .venv/bin/python -m pytest "${workers[@]}" -k sqlite \
  tests/langgraph/test_store_sqlite_vec.py tests/contract tests/langgraph tests/transfer
