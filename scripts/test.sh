#!/usr/bin/env bash
# scripts/test.sh: run every jobconfig test.
#
#   1. the regression suites (sql/, expected/) with pg_regress, on a
#      throwaway cluster;
#   2. the TAP tests (t/), each on clusters of its own;
#   3. the cron parser fuzz test, under AddressSanitizer and UBSan.
#
# Installs what it needs from Debian's packages, builds and installs the
# extension, and ends with "N passed, N failed" (one per suite, TAP file and
# fuzz run).  Exits non-zero when anything failed.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

install_packages
build_and_install || { echo "0 passed, 1 failed"; exit 1; }

work=$(postgres_workdir)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

# tally LOG: count "ok" and "not ok"/"FAILED" result lines.
tally() {
    local ok bad
    ok=$(grep -cE '^(test .*\.\.\. ok|t/.*\.\. ok$)' "$1" || true)
    bad=$(grep -cE '(\.\.\. FAILED|^t/.*\.\. (Dubious|Failed))' "$1" || true)
    passed=$((passed + ok))
    failed=$((failed + bad))
}

echo "== regression suites"
suites=$(make -s -C "$work" print-regress 2>/dev/null)
(cd "$work" && as_postgres "$PGXS_DIR/src/test/regress/pg_regress" \
    --temp-instance="$work/tmp_regress" --inputdir=. --bindir="$PG_BINDIR" \
    --dbname=jobconfig_regress $suites) 2>&1 | tee "$work/regress.log"
[ -f "$work/regression.diffs" ] && cat "$work/regression.diffs"
tally "$work/regress.log"

echo "== TAP tests"
(cd "$work" && as_postgres env PATH="$PG_BINDIR:$PATH" PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
    prove -I "$PGXS_DIR/src/test/perl" -I "$work/t" t/*.pl) 2>&1 | tee "$work/tap.log"
tally "$work/tap.log"
[ -d "$work/tmp_check/log" ] && grep -l "not ok" "$work"/tmp_check/log/regress_log_* 2>/dev/null | xargs -r tail -n 50

echo "== cron fuzz (AddressSanitizer + UBSan)"
if bash "$work/test/fuzz/run.sh"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
