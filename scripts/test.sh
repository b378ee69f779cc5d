#!/usr/bin/env bash
# scripts/test.sh: run every jobconfig test.
#
#   bash scripts/test.sh [--pg N]
#
#   1. the regression suites (sql/, expected/) with pg_regress, on a
#      throwaway cluster, then again on one with jobconfig preloaded
#      (test/preload.conf), where the workers run what the suites create;
#   2. the TAP tests (t/), each on clusters of its own;
#   3. the cron parser fuzz test, under AddressSanitizer and UBSan.
#
# Tests the PostgreSQL this Debian release ships (bookworm 15, trixie 17,
# sid 18), or with --pg N another supported version that is installed or
# installable; fails by name when the release ships one jobconfig does not
# support yet.  Installs what it needs from Debian's packages, builds and
# installs the extension, and ends with "N passed, N failed" (one per
# regression run, TAP file and fuzz run).  Exits non-zero when anything
# failed: a runner that exits non-zero counts as a failure even when its
# output says less.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

usage() {
    echo "usage: bash scripts/test.sh [--pg N]   (N: one of ${PG_SUPPORTED_VERSIONS[*]})" >&2
    exit 2
}
pg=""
while [ $# -gt 0 ]; do
    case $1 in
        --pg) [ $# -ge 2 ] || usage; pg=$2; shift 2 ;;
        --pg=*) pg=${1#--pg=}; shift ;;
        *) usage ;;
    esac
done

pg_select "$pg" || { echo "0 passed, 1 failed"; exit 1; }
echo "== PostgreSQL $PG_MAJOR"
install_packages || { echo "0 passed, 1 failed"; exit 1; }
build_and_install || { echo "0 passed, 1 failed"; exit 1; }

work=$(postgres_workdir)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

# count NAME PASSED FAILED RC: add a runner's results; a runner that failed
# (RC non-zero) counts at least one failure, whatever its output said.
count() {
    local name=$1 ok=$2 bad=$3 rc=$4
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
    echo "== $name: $ok passed, $bad failed"
    passed=$((passed + ok))
    failed=$((failed + bad))
}

# regress NAME [PG_REGRESS_OPTION...]: the regression suites once, on a
# temporary instance of their own.  pg_regress 15 reports a suite as
# "test NAME ... ok" or "... FAILED"; 16 and later as TAP lines,
# "ok N - NAME" and "not ok N - NAME".
suites=$(make -s -C "$work" PG_CONFIG="$PG_CONFIG" print-regress 2>/dev/null)
regress() {
    local name=$1 log=$work/regress-$1.log rc; shift
    echo "== regression suites, $name"
    rm -rf "$work/tmp_regress" "$work/regression.diffs"
    (cd "$work" && as_postgres "$PGXS_DIR/src/test/regress/pg_regress" \
        --temp-instance="$work/tmp_regress" --inputdir=. --bindir="$PG_BINDIR" \
        --dbname=jobconfig_regress "$@" $suites) 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    [ -f "$work/regression.diffs" ] && cat "$work/regression.diffs"
    count "regression suites, $name" \
        "$(grep -cE '^(test \S+ +\.\.\. ok|ok [0-9]+ )' "$log")" \
        "$(grep -cE '\.\.\. FAILED|^not ok [0-9]+ ' "$log")" "$rc"
}
regress "no preload"
regress "jobconfig preloaded" --temp-config="$work/test/preload.conf"

echo "== TAP tests"
(cd "$work" && as_postgres env PATH="$PG_BINDIR:$PATH" PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
    prove -I "$PGXS_DIR/src/test/perl" -I "$work/t" t/*.pl) 2>&1 | tee "$work/tap.log"
rc=${PIPESTATUS[0]}
# prove's summary lists each failed file as "t/NAME.pl (Wstat: ...".
tap_failed=$(grep -cE '^t/\S+\.pl +\(Wstat' "$work/tap.log")
tap_total=$(ls "$work"/t/*.pl | wc -l)
count "TAP tests" "$((tap_total - tap_failed))" "$tap_failed" "$rc"
if [ "$rc" -ne 0 ]; then
    grep -l "not ok" "$work"/tmp_check/log/regress_log_* 2>/dev/null | xargs -r grep -h -B2 -A8 "not ok"
fi

echo "== cron fuzz (AddressSanitizer + UBSan)"
PG_CONFIG=$PG_CONFIG bash "$work/test/fuzz/run.sh"
rc=$?
count "cron fuzz" "$((rc == 0))" "$((rc != 0))" "$rc"

echo "== PostgreSQL $PG_MAJOR: $passed passed, $failed failed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
