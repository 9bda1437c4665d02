#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 as the unprivileged
# `postgres` user and print the DSN of its superuser on stdout.
# Usage: scripts/start-postgres.sh DATA_DIR
set -euo pipefail
datadir=${1:?usage: start-postgres.sh DATA_DIR}

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing PostgreSQL from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
bindir=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
id postgres >/dev/null 2>&1 || useradd --system --create-home postgres

# a free port chosen by the kernel, never a fixed one
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

rm -rf "$datadir"
mkdir -p "$datadir"
chown postgres "$datadir"
run_as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
run_as_postgres "$bindir/initdb" -D "$datadir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
run_as_postgres "$bindir/pg_ctl" -D "$datadir/data" -l "$datadir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$datadir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >&2
echo "postgresql+asyncpg://postgres@127.0.0.1:$port/postgres"
