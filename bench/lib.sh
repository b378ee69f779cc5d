# bench/lib.sh: what bench/run.sh needs to install peers and run throwaway
# clusters.  Sourced, not run.
#
# Every scenario gets a fresh cluster: initdb into a temporary directory,
# the same postgresql.conf for every peer (BENCH_CONF below), plus only the
# peer's own preload and required settings.  The server runs as the postgres
# OS user (PostgreSQL refuses root) and listens on a Unix socket only.  One
# cluster runs at a time: the machine has 2 cores, and two servers would
# measure each other.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
source "$REPO_ROOT/scripts/pg.sh"

# bench_select_pg [N]: PostgreSQL N, or by default the one this Debian
# release ships (scripts/pg.sh pg_select: bookworm 15, trixie 17, sid 18).
# Sets PG_MAJOR, PG_BINDIR, PG_CONFIG (pg_select) and BENCH_PACKAGES, the
# Debian packages the run needs: that PostgreSQL's server, client and
# server-dev (jobconfig is built against it), its pg_cron
# (postgresql-N-cron: 1.4.2 on bookworm, 1.6.5 on trixie), and what
# jobconfig's build needs besides (libcurl, a compiler, make).  Node.js runs
# the driver (graphile-worker is a Node.js library, so the driver is
# Node.js too and every peer is driven by the same client code); Debian's
# nodejs and npm are installed only when the machine has no node/npm of its
# own (a machine with Node.js from elsewhere has npm built in, which
# Debian's npm package conflicts with).
bench_select_pg() {
    pg_select "${1:-}" || return 1
    BENCH_PACKAGES=("${PG_PACKAGES[@]}" "postgresql-$PG_MAJOR-cron" libcurl4-openssl-dev gcc make)
}

# The settings every cluster gets, whatever the peer.  Durable: fsync and
# synchronous_commit on, so every recorded execution reached the disk.
# shared_buffers 1GB holds every table of every scenario; 200 connections
# leave room for pg_cron's 32 running jobs, graphile-worker's pool and the
# driver; 16 worker processes cover jobconfig's launcher, scheduler, its 4
# executors and notifier with room to spare (pg_cron's background-worker
# mode, a worker per run, raises it for its own clusters: run.sh peer_conf).  A large max_wal_size and a
# long checkpoint_timeout keep a checkpoint out of the middle of a timing
# (the same for all).  UTC so that "the minute boundary" reads the same in
# SQL, in logs and in Node.js.
BENCH_CONF="
listen_addresses = ''
max_connections = 200
max_worker_processes = 16
shared_buffers = 1GB
fsync = on
synchronous_commit = on
full_page_writes = on
wal_level = replica
max_wal_size = 8GB
checkpoint_timeout = 30min
timezone = 'UTC'
log_timezone = 'UTC'
log_min_messages = warning
log_line_prefix = '%m [%p] %b '
"

# BENCH_TMP: the run's scratch directory (clusters, results, logs); removed
# by bench_cleanup unless KEEP=1.
BENCH_TMP=""
CLUSTER_DIR=""          # the running cluster's directory, if any
DRIVER_PID=""           # the running driver's timeout process, if any

# bench_log MSG...: progress on stderr, so stdout stays the report.
bench_log() {
    printf '== %s\n' "$*" >&2
}

# install_packages: install what is missing of BENCH_PACKAGES from Debian.
# A PostgreSQL this machine's apt sources do not offer is named, rather
# than left to apt's "unable to locate package".
install_packages() {
    local missing=() pkg
    for pkg in "${BENCH_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    command -v node >/dev/null || missing+=(nodejs)
    command -v npm >/dev/null || missing+=(npm)
    [ ${#missing[@]} -gt 0 ] || return 0
    bench_log "installing ${missing[*]}"
    apt-get update -qq
    for pkg in "postgresql-$PG_MAJOR" "postgresql-$PG_MAJOR-cron"; do
        apt-cache show "$pkg" >/dev/null 2>&1 && continue
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' && continue
        echo "bench/run.sh: $pkg is neither installed nor offered by this machine's apt sources" \
            "($(pg_release_name) ships PostgreSQL $(pg_release_version))" >&2
        return 1
    done
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

# install_node_modules: graphile-worker and pg from the npm registry, into
# bench/node_modules (ignored by git), at the versions bench/package.json
# pins.
install_node_modules() {
    if [ -f "$BENCH_DIR/node_modules/graphile-worker/package.json" ] \
        && [ -f "$BENCH_DIR/node_modules/pg/package.json" ]; then
        return 0
    fi
    bench_log "installing graphile-worker and pg from npm"
    # graphile-worker 0.18 declares node >= 22.18 but runs on Node.js 20;
    # npm's engine warning is expected.
    (cd "$BENCH_DIR" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
}

# graphile_unusable: why graphile-worker cannot run on this machine's
# Node.js, or nothing when it loads.  Its package declares a newer Node.js
# than some Debian releases ship; it is loaded once here so that, when it
# does not load, its cells say why instead of the run failing.
graphile_unusable() {
    local err
    if err=$(cd "$BENCH_DIR" && node -e "require('graphile-worker')" 2>&1); then
        return 0
    fi
    echo "graphile-worker $(node -p "require('$BENCH_DIR/node_modules/graphile-worker/package.json').version" 2>/dev/null)" \
        "does not load on Node.js $(node --version): $(echo "$err" | grep -m 1 -E 'Error|error' || echo "$err" | head -n 1)"
}

# bench_setup_tmp: create the scratch directory, readable by postgres.
bench_setup_tmp() {
    BENCH_TMP=$(mktemp -d /tmp/jobconfig-bench.XXXXXX)
    chmod 755 "$BENCH_TMP"
    mkdir -p "$BENCH_TMP/logs"
}

# bench_cleanup: stop the running driver (its timeout process passes the
# signal on to the driver's process group) and the running cluster, then
# remove the scratch directory.  Installed as the EXIT trap, so it also
# runs on failure and on Ctrl-C.
bench_cleanup() {
    if [ -n "$DRIVER_PID" ]; then
        kill -TERM "$DRIVER_PID" 2>/dev/null || true
        wait "$DRIVER_PID" 2>/dev/null || true
    fi
    cluster_stop
    if [ -n "$BENCH_TMP" ] && [ "${KEEP:-0}" != 1 ]; then
        rm -rf "$BENCH_TMP"
    fi
}

# build_jobconfig: make && make install of the working tree as it is now,
# only when it builds; prints the reason when it does not.  It builds a
# clean snapshot copy of the tree (sources only: no .git, bench/ or build
# output), not the tree itself: another engineer may be running make in it
# at the same moment, and two makes writing the same object files race.
build_jobconfig() {
    local log=$BENCH_TMP/logs/jobconfig-build.log src=$BENCH_TMP/jobconfig-src
    mkdir -p "$src"
    tar -C "$REPO_ROOT" --exclude=./.git --exclude=./bench --exclude=./tmp_check \
        --exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - . \
        | tar -C "$src" -xf -
    if make -C "$src" PG_CONFIG="$PG_CONFIG" >"$log" 2>&1 \
        && make -C "$src" PG_CONFIG="$PG_CONFIG" install >>"$log" 2>&1; then
        return 0
    fi
    echo "does not build: $(grep -m 1 -E ': (fatal )?error:|\*\*\*' "$log" || tail -n 1 "$log")"
    return 1
}

# cluster_start NAME PRELOAD [EXTRA_CONF]: initdb a new cluster in
# $BENCH_TMP/NAME with BENCH_CONF, shared_preload_libraries = PRELOAD and the
# peer's EXTRA_CONF lines (@SOCKET@ standing for the socket directory),
# start it, and create database "bench".  Sets CLUSTER_DIR (also the socket
# directory).  Returns non-zero, with the server log's tail on stderr, when
# the server does not come up.
cluster_start() {
    local name=$1 preload=$2 extra=${3:-}
    CLUSTER_DIR="$BENCH_TMP/$name"
    extra=${extra//@SOCKET@/$CLUSTER_DIR}
    mkdir -p "$CLUSTER_DIR"
    chown postgres "$CLUSTER_DIR"
    runuser -u postgres -- "$PG_BINDIR/initdb" -D "$CLUSTER_DIR/data" -A trust -U postgres \
        --no-instructions >"$CLUSTER_DIR/initdb.log" 2>&1 || {
        cat "$CLUSTER_DIR/initdb.log" >&2
        return 1
    }
    {
        echo "# bench: common settings (bench/lib.sh BENCH_CONF)"
        echo "$BENCH_CONF"
        echo "unix_socket_directories = '$CLUSTER_DIR'"
        echo "port = 5432"
        echo "# bench: the peer's own settings"
        echo "shared_preload_libraries = '$preload'"
        echo "$extra"
    } >>"$CLUSTER_DIR/data/postgresql.conf"
    if ! runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" \
        -l "$CLUSTER_DIR/server.log" -w -t 60 start >/dev/null 2>&1; then
        tail -n 5 "$CLUSTER_DIR/server.log" >&2
        return 1
    fi
    cluster_psql postgres -c "CREATE DATABASE bench" >/dev/null
}

# cluster_psql DB ARGS...: psql on the running cluster (set-up only; the
# timed work is done by the Node.js driver).
cluster_psql() {
    local db=$1
    shift
    runuser -u postgres -- "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$CLUSTER_DIR" -p 5432 -d "$db" "$@"
}

# cluster_stop: stop the running cluster, keep its server log under
# $BENCH_TMP/logs, and remove its files.
cluster_stop() {
    [ -n "$CLUSTER_DIR" ] || return 0
    if [ -f "$CLUSTER_DIR/data/postmaster.pid" ]; then
        runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m fast -w -t 30 \
            stop >/dev/null 2>&1 \
            || runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w \
                stop >/dev/null 2>&1 || true
    fi
    cp "$CLUSTER_DIR/server.log" "$BENCH_TMP/logs/$(basename "$CLUSTER_DIR").log" 2>/dev/null || true
    rm -rf "$CLUSTER_DIR"
    CLUSTER_DIR=""
}

# busy_jiffies: CPU time the whole machine has spent busy, in clock ticks
# (/proc/stat: user, nice, system, irq, softirq).
busy_jiffies() {
    awk '/^cpu / {print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat
}

# wait_for_quiet: before a scenario (when nothing of ours runs), wait up to
# 60 s for the machine to be quiet -- other work below 15% of one core over
# a second -- since on 2 cores anyone else's work moves the numbers.  Goes
# on regardless after 60 s; what other work there was during each scenario
# is measured anyway (common.js loadSnapshot) and printed above the table.
wait_for_quiet() {
    local i a b pct=0 hz
    hz=$(getconf CLK_TCK)
    for i in $(seq 1 60); do
        a=$(busy_jiffies)
        sleep 1
        b=$(busy_jiffies)
        pct=$(( (b - a) * 100 / hz ))
        [ "$pct" -lt 15 ] && return 0
    done
    bench_log "the machine is busy with other work ($pct% of a core); going on"
}

# machine_info: the lines printed above the table.
machine_info() {
    local cpu
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    echo "machine: $(nproc) cores, ${cpu:-unknown CPU}, $(free -g | awk '/^Mem:/ {print $2}') GiB, Linux $(uname -r)"
    echo "PostgreSQL: $("$PG_BINDIR/postgres" --version | sed 's/^postgres (PostgreSQL) //')," \
        "pg_cron $(dpkg-query -W -f='${Version}' "postgresql-$PG_MAJOR-cron" 2>/dev/null)," \
        "graphile-worker $(node -p "require('$BENCH_DIR/node_modules/graphile-worker/package.json').version" 2>/dev/null)," \
        "Node.js $(node --version)"
    # Every peer commits each run durably, so the cost of a WAL flush on
    # this disk bounds them all: show it (pg_test_fsync, where the clusters
    # live).
    echo "disk: fdatasync of one 8 kB write: $("$PG_BINDIR/pg_test_fsync" -s 1 -f "$BENCH_TMP/fsync.test" 2>/dev/null \
        | awk '/^[[:space:]]+fdatasync/ {print $(NF-1), "µs"; exit}') (pg_test_fsync)"
    rm -f "$BENCH_TMP/fsync.test"
}
