# Sourced by .ci/run: a throwaway PostgreSQL cluster for the tests of the shared index.
#
# Installs Debian's `postgresql` when no server is on the machine, creates a cluster in a
# temporary directory owned by an unprivileged user (PostgreSQL refuses to run as root), starts
# it on 127.0.0.1 at a free port with its socket in that directory, creates the `knockon`
# database and exports its URL as KNOCKON_TEST_POSTGRES. The cluster is stopped and removed when
# the sourcing shell exits. Takes a few seconds (plus the install on a fresh machine).

knockon_pg_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

knockon_pg_start() {
    local bindir
    bindir="$(knockon_pg_bindir)"
    if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
        echo "postgres.sh: installing postgresql" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq postgresql >/dev/null
        bindir="$(knockon_pg_bindir)"
    fi
    local as=()
    if [ "$(id -u)" = 0 ]; then
        id -u knockon-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin knockon-pg
        as=(runuser -u knockon-pg --)
    fi
    KNOCKON_PG_DIR="$(mktemp -d /tmp/knockon-pg.XXXXXX)"
    chmod 755 "$KNOCKON_PG_DIR"
    [ "$(id -u)" = 0 ] && chown knockon-pg "$KNOCKON_PG_DIR"
    local port
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)"
    "${as[@]}" "$bindir/initdb" -D "$KNOCKON_PG_DIR/data" -U knockon --auth=trust -E UTF8 --no-sync >/dev/null
    "${as[@]}" "$bindir/pg_ctl" -D "$KNOCKON_PG_DIR/data" -l "$KNOCKON_PG_DIR/log" -w \
        -o "-h 127.0.0.1 -p $port -k $KNOCKON_PG_DIR -F" start >/dev/null
    "${as[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U knockon knockon
    KNOCKON_PG_CTL=("${as[@]}" "$bindir/pg_ctl" -D "$KNOCKON_PG_DIR/data" -m immediate stop)
    trap knockon_pg_stop EXIT
    export KNOCKON_TEST_POSTGRES="postgres://knockon@127.0.0.1:$port/knockon"
    echo "postgres.sh: PostgreSQL at $KNOCKON_TEST_POSTGRES" >&2
}

knockon_pg_stop() {
    "${KNOCKON_PG_CTL[@]}" >/dev/null 2>&1 || true
    rm -rf "$KNOCKON_PG_DIR"
}

knockon_pg_start
