#!/usr/bin/env bash
# Install threadstore with every extra into .venv, then run the linters, the
# type checker and the whole test suite against memory, a SQLite file and a
# real PostgreSQL server. Without THREADSTORE_TEST_POSTGRES_URL a throwaway
# local PostgreSQL cluster is installed (Debian package) and started.
# Extra arguments go to pytest.
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

echo "== ruff"
.venv/bin/ruff check src tests alembic bench
.venv/bin/ruff format --check src tests alembic bench
echo "== mypy --strict"
.venv/bin/mypy src
echo "== pytest"
.venv/bin/python -m pytest "$@"
