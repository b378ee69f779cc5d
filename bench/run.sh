#!/usr/bin/env bash
# bench/run.sh: jobconfig against pg_cron and graphile-worker, one table.
#
#   bash bench/run.sh [--pg N] [--only jobconfig|pg_cron|graphile]... [--quick]
#
# Runs on PostgreSQL N (--pg N, as in scripts/test.sh), or by default the
# one this Debian release ships (bookworm 15, trixie 17).  Installs what is
# missing (Debian's postgresql-N, its server-dev and postgresql-N-cron,
# what jobconfig's build needs, Node.js; npm's graphile-worker), builds and
# installs jobconfig from a copy of the working tree when it builds, then
# runs every scenario of every peer -- pg_cron twice, a connection per run
# and cron.use_background_workers = on -- each on a fresh throwaway cluster
# with the same postgresql.conf (bench/lib.sh), one cluster at a time, each
# under a time limit.  Prints the machine and ONE table; writes the table,
# the settings and the raw numbers to bench/results/latest.md on
# PostgreSQL 15, latest-pgN.md on another N (partial.md, partial-pgN.md for
# a --quick or --only run).  What each number means: bench/README.md.
# Numbers are printed, never judged: nothing here passes or fails on a
# time.  A scenario that fails or runs out of time is a cell "failed [n]"
# with its reason under the table; the other peers' rows are still
# measured.
#
# --quick: smaller counts (200 latency runs, 5,000 drained jobs, the 200-job
# burst only, 10,000 jobs at scale, 10 s of rest) -- a smoke test of the harness,
# not numbers to quote.  KEEP=1 keeps the scratch directory (server logs).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# usage: the comment above, from its second line to the first non-comment.
usage() {
    awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"
    exit 2
}

ALL_PEERS=(jobconfig pg_cron graphile)
export BENCH_ARGS="$*"      # quoted in bench/results/latest.md
ONLY=()
QUICK=0
PG=""
while [ $# -gt 0 ]; do
    case $1 in
        --pg) [ $# -ge 2 ] || usage; PG=$2; shift 2 ;;
        --pg=*) PG=${1#--pg=}; shift ;;
        --only)
            [ $# -ge 2 ] || usage
            case $2 in jobconfig|pg_cron|graphile) ONLY+=("$2") ;; *) usage ;; esac
            shift 2 ;;
        --only=*)
            case ${1#--only=} in jobconfig|pg_cron|graphile) ONLY+=("${1#--only=}") ;; *) usage ;; esac
            shift ;;
        --quick) QUICK=1; shift ;;
        -h|--help) usage ;;
        *) usage ;;
    esac
done
[ ${#ONLY[@]} -gt 0 ] || ONLY=("${ALL_PEERS[@]}")
bench_select_pg "$PG" || exit 2
bench_log "PostgreSQL $PG_MAJOR"

selected() {
    local p
    for p in "${ONLY[@]}"; do [ "$p" = "$1" ] && return 0; done
    return 1
}

# The scenarios of each peer, in the order they run, and the settings of
# graphile-worker tried for the drain (bench/graphile_tasks.js SETTINGS; the
# table shows the best).  pg_cron has no manual trigger and no queue: its
# "rate" is its maximum run rate, shown in the drain row; "rate_seconds" is
# 100 jobs on its '1 seconds' schedule (pg_cron >= 1.5; on an older one the
# driver records n/a).  pg_cron's scenarios run once per mode
# (PG_CRON_MODES: a libpq connection per run, its default, and background
# workers), each mode a column of its own.
JOBCONFIG_SCENARIOS=(latency drain drain_quiet burst200 burst1000 burst1000_forbid scale)
PG_CRON_SCENARIOS=(rate rate_seconds burst200 burst1000 scale)
PG_CRON_MODES=(pg_cron pg_cron_bgw)
GRAPHILE_SCENARIOS=(latency drain burst200 burst1000)
GRAPHILE_DRAIN_SETTINGS=(default c8-q200 c16-q500 c32-q1000)
# Throughput (drain, pg_cron's rate) hangs on how fast this disk flushes
# WAL, which varies from run to run (pg_test_fsync's fdatasync: 0.2-0.8 ms
# within minutes here): those scenarios run ROUNDS times, each on a fresh
# cluster, and the table shows the median.
ROUNDS=3
if [ "$QUICK" = 1 ]; then
    # the same code paths, fewer minutes: one burst size, two settings, once
    JOBCONFIG_SCENARIOS=(latency drain burst200 scale)
    PG_CRON_SCENARIOS=(rate rate_seconds burst200 scale)
    GRAPHILE_SCENARIOS=(latency drain burst200)
    GRAPHILE_DRAIN_SETTINGS=(default c16-q500)
    ROUNDS=1
fi
rounds() {
    case $1 in drain|drain_quiet|rate|rate_seconds) echo "$ROUNDS" ;; *) echo 1 ;; esac
}

# limit SCENARIO: its time limit in seconds.  Generous: a limit is there so
# that a broken peer cannot hang the run, not to judge it.  A burst waits
# up to 70 s for its minute boundary and then 60 s for the last start.
limit() {
    case $1 in
        latency) echo 300 ;;
        drain|drain_quiet) echo 600 ;;
        rate) echo 180 ;;
        rate_seconds) echo 120 ;;
        burst*) echo 240 ;;
        scale) echo 900 ;;
    esac
}

# peer_conf PEER: the peer's own postgresql.conf lines, @SOCKET@ standing for
# the cluster's socket directory.  pg_cron (PEER pg_cron, its default mode)
# needs the database of its job table, and a host to open its per-run
# connections to: the socket, as the clusters have no TCP listener.
# Everything else is pg_cron's defaults (cron.max_running_jobs = 32, a libpq
# connection per run, every run logged).
#
# PEER pg_cron_bgw is pg_cron with cron.use_background_workers = on: each
# run is a dynamic background worker instead of a connection.  In that
# mode cron.max_running_jobs defaults to 5 and may be at most
# max_worker_processes - 1, and every run takes a worker slot: so it is set
# to 32, the connection mode's default, for the two modes to differ only in
# how a run is started, and max_worker_processes is raised from the common
# 16 to 48 for this peer alone: 32 runs, pg_cron's launcher, PostgreSQL's
# logical replication launcher and max_parallel_workers (8) fit with room
# to spare.
peer_preload() {
    case $1 in jobconfig) echo jobconfig ;; pg_cron|pg_cron_bgw) echo pg_cron ;; graphile) echo '' ;; esac
}
peer_conf() {
    case $1 in
        pg_cron) printf "cron.database_name = 'bench'\ncron.host = '@SOCKET@'\n" ;;
        pg_cron_bgw)
            printf "cron.database_name = 'bench'\ncron.use_background_workers = on\n"
            printf "cron.max_running_jobs = 32\nmax_worker_processes = 48\n" ;;
        *) ;;
    esac
}

# driver PEER: the peer's driver script (pg_cron's two modes share one).
driver() {
    case $1 in pg_cron_bgw) echo pg_cron ;; *) echo "$1" ;; esac
}

# run_scenario PEER SCENARIO [SETTINGS]: one scenario, once per round, each
# on a fresh cluster (PEER pg_cron_bgw: pg_cron in its background-worker
# mode).
run_scenario() {
    local round n
    n=$(rounds "$2")
    for round in $(seq 1 "$n"); do
        run_once "$1" "$2" "${3:-}" "$round" "$n"
        # a scenario this peer cannot have (n/a, e.g. second schedules on
        # pg_cron 1.4) is not repeated
        if tail -n 1 "$RESULTS" | grep -q '"na":'; then break; fi
    done
}

# run_once PEER SCENARIO SETTINGS ROUND ROUNDS: one scenario on a fresh
# cluster.  The driver appends its result to $RESULTS; when it cannot (the
# server does not start, the limit kills it, it crashes) this appends the
# failure.
run_once() {
    local peer=$1 scenario=$2 variant=$3 round=$4 n=$5 lim before rc reason
    lim=$(limit "$scenario")
    bench_log "$peer: $scenario${variant:+ ($variant)}$( [ "$n" = 1 ] || echo ", round $round of $n")"
    before=$(wc -l <"$RESULTS")
    wait_for_quiet
    if ! cluster_start "$peer-$scenario${variant:+-$variant}-$round" "$(peer_preload "$peer")" \
        "$(peer_conf "$peer")" 2>"$BENCH_TMP/start.err"; then
        reason="server did not start: $(grep -m 1 -E 'FATAL|ERROR|error' "$BENCH_TMP/start.err" || tail -n 1 "$BENCH_TMP/start.err")"
        node "$BENCH_DIR/report.js" fail "$RESULTS" "$peer" "$scenario" "$variant" "$reason"
        cluster_stop
        return 0
    fi
    rc=0
    # timeout signals the driver's whole process group (a graphile-worker
    # child included) when the limit is reached.  It runs in the background
    # and is waited for, so that Ctrl-C reaches our trap at once (timeout's
    # process group does not get the terminal's signals; bench_cleanup
    # stops it).
    BENCH_SOCKET=$CLUSTER_DIR BENCH_OUT=$RESULTS BENCH_QUICK=$QUICK BENCH_ROUND=$round BENCH_PEER=$peer \
        timeout --kill-after=15 "$lim" node "$BENCH_DIR/$(driver "$peer").js" "$scenario" $variant &
    DRIVER_PID=$!
    wait "$DRIVER_PID" || rc=$?
    DRIVER_PID=""
    if [ "$(wc -l <"$RESULTS")" = "$before" ]; then
        case $rc in
            124|137) reason="did not finish in $lim s" ;;
            *) reason="the driver exited with status $rc without a result" ;;
        esac
        bench_log "$peer: $scenario: $reason"
        node "$BENCH_DIR/report.js" fail "$RESULTS" "$peer" "$scenario" "$variant" "$reason"
    fi
    cluster_stop
}

install_packages
install_node_modules
GRAPHILE_UNUSABLE=""
if selected graphile; then
    GRAPHILE_UNUSABLE=$(graphile_unusable)
    [ -z "$GRAPHILE_UNUSABLE" ] || bench_log "graphile: $GRAPHILE_UNUSABLE"
fi
bench_setup_tmp
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
RESULTS=$BENCH_TMP/results.jsonl
: >"$RESULTS"

machine_info >"$BENCH_TMP/machine.txt"
{
    echo "# every cluster (bench/lib.sh)"
    echo "$BENCH_CONF" | sed '/^$/d'
    echo "# jobconfig: shared_preload_libraries = 'jobconfig' (defaults: jobconfig.max_workers = 4)"
    echo "# pg_cron (a connection per run): shared_preload_libraries = 'pg_cron'"
    peer_conf pg_cron | sed 's/@SOCKET@/<socket directory>/; s/^/#   /'
    echo "# pg_cron (background workers): shared_preload_libraries = 'pg_cron'"
    peer_conf pg_cron_bgw | sed 's/^/#   /'
    echo "# graphile-worker: nothing preloaded; settings (bench/graphile_tasks.js) tried for the" \
        "drain: ${GRAPHILE_DRAIN_SETTINGS[*]}; latency: default; bursts: the drain's best"
    [ "$QUICK" = 1 ] && echo "# --quick: smaller counts; not numbers to quote"
} >"$BENCH_TMP/settings.txt"

DRIVER_PID=""
for peer in "${ALL_PEERS[@]}"; do
    selected "$peer" || continue
    case $peer in
        jobconfig)
            bench_log "building jobconfig"
            if why=$(build_jobconfig); then
                for s in "${JOBCONFIG_SCENARIOS[@]}"; do run_scenario jobconfig "$s"; done
            else
                bench_log "jobconfig: $why"
                for s in "${JOBCONFIG_SCENARIOS[@]}"; do
                    node "$BENCH_DIR/report.js" fail "$RESULTS" jobconfig "$s" "" "$why"
                done
            fi ;;
        pg_cron)
            for mode in "${PG_CRON_MODES[@]}"; do
                for s in "${PG_CRON_SCENARIOS[@]}"; do run_scenario "$mode" "$s"; done
            done ;;
        graphile)
            if [ -n "$GRAPHILE_UNUSABLE" ]; then
                for s in "${GRAPHILE_SCENARIOS[@]}"; do
                    node "$BENCH_DIR/report.js" fail "$RESULTS" graphile "$s" "" "$GRAPHILE_UNUSABLE"
                done
                continue
            fi
            # the latency worker runs graphile-worker's defaults; the bursts
            # run with the settings that drained fastest just before
            best=c16-q500
            for s in "${GRAPHILE_SCENARIOS[@]}"; do
                case $s in
                    latency) run_scenario graphile latency default ;;
                    drain)
                        for v in "${GRAPHILE_DRAIN_SETTINGS[@]}"; do run_scenario graphile drain "$v"; done
                        best=$(node "$BENCH_DIR/report.js" best "$RESULTS" graphile drain || echo c16-q500) ;;
                    *) run_scenario graphile "$s" "$best" ;;
                esac
            done ;;
    esac
done

# Only a full run replaces results/latest.md (PostgreSQL 15) or
# results/latest-pgN.md (another N), the numbers the README quotes; a
# --quick or --only run writes results/partial.md (partial-pgN.md).
suffix=""
[ "$PG_MAJOR" = 15 ] || suffix="-pg$PG_MAJOR"
report=latest$suffix.md
if [ "$QUICK" = 1 ] || [ ${#ONLY[@]} -lt ${#ALL_PEERS[@]} ]; then report=partial$suffix.md; fi
echo
node "$BENCH_DIR/report.js" table "$RESULTS" "$BENCH_TMP/machine.txt" "$BENCH_TMP/settings.txt" \
    "$BENCH_DIR/results/$report"
echo
echo "(also in bench/results/$report, with the settings and the raw numbers)"
