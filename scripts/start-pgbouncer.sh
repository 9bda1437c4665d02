#!/usr/bin/env bash
# Start PgBouncer in transaction pooling mode in front of a PostgreSQL server
# and print its DSN (same user, password and database) on stdout.
# Every database of the server is reachable through it (a `*` entry).
# Usage: scripts/start-pgbouncer.sh DIR POSTGRES_DSN
# Stop it with: kill "$(cat DIR/pgbouncer.pid)"
set -euo pipefail
dir=${1:?usage: start-pgbouncer.sh DIR POSTGRES_DSN}
dsn=${2:?usage: start-pgbouncer.sh DIR POSTGRES_DSN}

if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  echo "installing pgbouncer from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  # the package lists are usually there already: update only when needed
  apt-get install -y -qq pgbouncer >&2 || { apt-get update -qq >&2 && apt-get install -y -qq pgbouncer >&2; }
  # the package starts a system instance on 6432; this script runs its own
  if command -v service >/dev/null 2>&1; then service pgbouncer stop >/dev/null 2>&1 || true; fi
fi
bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)

# host, port, user, password and database of the DSN (stdlib only)
read -r host port user password database < <(python3 - "$dsn" <<'EOF'
import sys
from urllib.parse import unquote, urlsplit
u = urlsplit(sys.argv[1])
print(u.hostname or "127.0.0.1", u.port or 5432, unquote(u.username or "postgres"),
      unquote(u.password or "") or "-", (u.path.lstrip("/") or "postgres"))
EOF
)
[ "$password" = "-" ] && password=""

# a free port chosen by the kernel, never a fixed one
listen=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

runas=postgres
id "$runas" >/dev/null 2>&1 || useradd --system --create-home "$runas"
rm -rf "$dir"
mkdir -p "$dir"
printf '"%s" "%s"\n' "$user" "$password" >"$dir/userlist.txt"
cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=$host port=$port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $listen
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
server_reset_query = DISCARD ALL
server_reset_query_always = 1
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
chown -R "$runas" "$dir"
if [ "$(id -u)" = 0 ]; then
  runuser -u "$runas" -- "$bin" -d "$dir/pgbouncer.ini"
else
  "$bin" -d "$dir/pgbouncer.ini"
fi

# wait until it accepts connections (it daemonizes before listening)
for _ in $(seq 100); do
  if python3 -c "import socket; socket.create_connection(('127.0.0.1', $listen), 0.2).close()" 2>/dev/null; then
    break
  fi
  sleep 0.05
done
auth=$user
[ -n "$password" ] && auth="$user:$password"
echo "postgresql+asyncpg://$auth@127.0.0.1:$listen/$database"
