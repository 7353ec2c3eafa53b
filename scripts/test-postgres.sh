#!/usr/bin/env bash
# Starts a private, throw-away PostgreSQL cluster on 127.0.0.1 for the test suite and prints its
# URL on the last line. Installs Debian's postgresql first when it is missing (as root, after
# apt-get update). Usage: scripts/test-postgres.sh start DIR PORT | scripts/test-postgres.sh stop DIR
set -euo pipefail

cmd=${1:?start|stop}
dir=${2:?data directory}
port=${3:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

case "$cmd" in
  start)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
      echo "== installing postgresql from Debian" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq postgresql >&2
      bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_postgres "'$bin/initdb' -D '$dir' -U postgres --auth=trust -E UTF8 >/dev/null"
    fi
    # fsync stays on: the durability the tests assert is the real one.
    as_postgres "'$bin/pg_ctl' -D '$dir' -l '$dir/server.log' -o \"-c listen_addresses=127.0.0.1 -p $port -k '$dir' -c max_connections=200\" -w start >/dev/null"
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    [ -n "$bin" ] && [ -f "$dir/postmaster.pid" ] && as_postgres "'$bin/pg_ctl' -D '$dir' -m fast -w stop >/dev/null" || true
    ;;
  *)
    echo "usage: $0 start DIR [PORT] | stop DIR" >&2
    exit 2
    ;;
esac
