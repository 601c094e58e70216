# A throwaway PostgreSQL cluster for the tests (sourced). It lives in a temporary directory,
# listens only on 127.0.0.1 at a free port, and is removed by stop_postgres.

start_postgres() {
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PG_DIR=$(mktemp -d /tmp/tollgate-pg.XXXXXX)
  PG_PORT=${PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
  chmod 755 "$PG_DIR"
  local run=()
  if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; run=(su postgres -s /bin/sh -c); else run=(sh -c); fi
  "${run[@]}" "$bindir/initdb -D $PG_DIR/data -U tollgate --auth=trust >/dev/null"
  "${run[@]}" "$bindir/pg_ctl -D $PG_DIR/data -l $PG_DIR/log -w -o '-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off' start >/dev/null"
  PG_BIN=$bindir
  export TOLLGATE_TEST_POSTGRES_URL="postgres://tollgate@127.0.0.1:$PG_PORT/postgres"
  echo "PostgreSQL is up at $TOLLGATE_TEST_POSTGRES_URL"
}

stop_postgres() {
  [ -n "${PG_DIR:-}" ] || return 0
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D $PG_DIR/data -m immediate stop >/dev/null" || true
  else
    "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null || true
  fi
  rm -rf "$PG_DIR"
}
