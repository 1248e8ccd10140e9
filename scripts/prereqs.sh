# Shared by scripts/test and the benchmarks: install and start what the project needs on a fresh machine.
# Sourced, not executed.

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "error: '$*' needs root; install it by hand or run as root" >&2; return 1; fi
}

_apt_updated=""
apt_install() {
  if [[ -z "$_apt_updated" ]]; then as_root apt-get update -qq >/dev/null; _apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" && -x "$d/postgres" ]] && { echo "$d"; return 0; }
  done
  return 1
}

ensure_postgres_binaries() {
  if ! pg_bindir >/dev/null; then
    log "installing PostgreSQL (Debian package postgresql)"
    apt_install postgresql
  fi
}

ensure_chromium() {
  if ! command -v chromium >/dev/null; then
    log "installing Chromium (Debian package chromium)"
    apt_install chromium fonts-liberation
  fi
}

# Starts a PostgreSQL server in a temporary directory on a free loopback port with trust auth,
# and sets SLUICE_TEST_POSTGRES to its connection string.
start_throwaway_postgres() {
  local bindir port user
  bindir=$(pg_bindir)
  PG_TMP=$(mktemp -d /tmp/sluice-pg.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)
  user=$(id -un)
  local run=()
  if [[ $(id -u) -eq 0 ]]; then
    # initdb refuses to run as root; the postgres system user comes with the Debian package.
    id postgres >/dev/null 2>&1 || useradd -r -m postgres
    chown postgres "$PG_TMP"
    run=(runuser -u postgres --)
    user=postgres
  fi
  "${run[@]}" "$bindir/initdb" -D "$PG_TMP/data" -U "$user" -A trust --no-sync >/dev/null
  "${run[@]}" "$bindir/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/log" -w \
    -o "-k $PG_TMP -h 127.0.0.1 -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null
  PG_RUN=("${run[@]}")
  PG_BINDIR=$bindir
  SLUICE_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=$user;Database=postgres"
  export SLUICE_TEST_POSTGRES
}

stop_throwaway_postgres() {
  if [[ -n "${PG_TMP:-}" && -d "$PG_TMP/data" ]]; then
    "${PG_RUN[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
  fi
}
