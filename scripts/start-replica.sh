#!/usr/bin/env bash
# Start a streaming hot standby of a PostgreSQL primary (one started by
# scripts/start-postgres.sh: initdb's defaults give wal_level=replica,
# max_wal_senders=10 and a `host replication all 127.0.0.1/32` entry) on a
# free local port, as the unprivileged `postgres` user; print its DSN.
# Usage: scripts/start-replica.sh DIR PRIMARY_DSN
# Stop it with: pg_ctl -D DIR/data stop (as postgres)
set -euo pipefail
dir=${1:?usage: start-replica.sh DIR PRIMARY_DSN}
primary=${2:?usage: start-replica.sh DIR PRIMARY_DSN}

bindir=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_basebackup | sort -V | tail -1)")
read -r host pport user database < <(python3 - "$primary" <<'EOF'
import sys
from urllib.parse import unquote, urlsplit
u = urlsplit(sys.argv[1])
print(u.hostname or "127.0.0.1", u.port or 5432, unquote(u.username or "postgres"),
      u.path.lstrip("/") or "postgres")
EOF
)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

run_as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
rm -rf "$dir"
mkdir -p "$dir"
chown postgres "$dir"
# -R writes standby.signal and primary_conninfo; -X stream copies the WAL the backup needs
run_as_postgres "$bindir/pg_basebackup" -h "$host" -p "$pport" -U "$user" -D "$dir/data" \
  -R -X stream -c fast >&2
# a hot standby needs these at least as high as on the primary
settings=""
for name in max_connections max_worker_processes max_wal_senders max_prepared_transactions \
  max_locks_per_transaction; do
  value=$("$bindir/psql" -h "$host" -p "$pport" -U "$user" -d "$database" -Atc "SHOW $name")
  settings="$settings -c $name=$value"
done
run_as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir $settings" \
  start >&2
echo "postgresql+asyncpg://$user@127.0.0.1:$port/$database"
