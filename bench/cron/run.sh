#!/bin/bash
# Benchmark CronNextAfter against croner's nextRun, on the same schedules,
# zones and chaining, and print a table.
#
#   bench/cron/run.sh [calls [rounds [peer_calls]]]
#
# PG_CONFIG names the PostgreSQL to build against and run; by default the
# one this Debian release ships (scripts/pg.sh), which must be installed
# with its server-dev package.
#
# Each side chains its calls from 2026-01-01 00:00 UTC, each call starting
# from the previous fire time (over 2200 it starts again), and reports the
# median over the rounds.  croner is about a thousand times slower, so it
# makes fewer calls per round (peer_calls) to finish in reasonable time.
#
# C side: builds bench/cron's PGXS module (the engine's own sources plus a
# timing loop), starts a throwaway cluster on a unix socket in a temporary
# directory as the postgres OS user, loads the module by absolute path and
# asks it for the median ns per call.  Peer side: installs croner with npm
# into bench/cron and times nextRun the same way in Node.js.  Nothing is
# installed into PostgreSQL.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PG_CONFIG:-}" ]; then
	source "$here/../../scripts/pg.sh"
	pg_select
fi
bindir=$("$PG_CONFIG" --bindir)
calls=${1:-100000}
rounds=${2:-7}
peer_calls=${3:-5000}

# The cases: schedule|zone.
cases='*/5 * * * *|UTC
0 4 * * 1-5|UTC
30 2 * * *|Europe/Berlin
*/5 * * * *|Europe/Berlin
0 0 29 2 *|UTC
0 0 $ 2 *|UTC
0 0 29 2 *|Europe/Berlin
0 0 $ 2 *|America/New_York'

command -v node >/dev/null || { echo "run.sh: node is required" >&2; exit 1; }
(cd "$here" && npm install --no-audit --no-fund --silent)
make -s -C "$here" PG_CONFIG="$PG_CONFIG" >/dev/null

work=$(mktemp -d /tmp/cron_bench.XXXXXX)
cleanup() {
	runuser -u postgres -- "$bindir/pg_ctl" -D "$work/data" -m immediate \
		stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
cp "$here/cron_bench.so" "$work/"
chown -R postgres "$work"
runuser -u postgres -- "$bindir/initdb" -D "$work/data" -A trust >/dev/null
runuser -u postgres -- "$bindir/pg_ctl" -D "$work/data" -l "$work/log" -w \
	-o "-k $work -c listen_addresses='' -p 5498" start >/dev/null

psql_bench() {
	runuser -u postgres -- "$bindir/psql" -h "$work" -p 5498 -d postgres \
		-X -q -A -t -v ON_ERROR_STOP=1 "$@"
}
psql_bench -c "CREATE FUNCTION cron_bench_next(text, text, int, int)
	RETURNS float8 AS '$work/cron_bench.so', 'cron_bench_next'
	LANGUAGE C STRICT"

c_results=$(while IFS='|' read -r schedule zone; do
	ns=$(psql_bench -v s="$schedule" -v z="$zone" <<<"SELECT round(cron_bench_next(:'s', :'z', $calls, $rounds)::numeric, 1);")
	echo "$schedule|$zone|$ns"
done <<<"$cases")
peer_results=$(cd "$here" && node croner_bench.mjs "$peer_calls" "$rounds" <<<"$cases")

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(node --version), croner $(cd "$here" && node -p 'require("./node_modules/croner/package.json").version')"
echo "median ns per next-fire call over $rounds rounds of chained calls" \
	"($calls per round for jobconfig, $peer_calls for croner)"
awk -F'|' '
	NR == FNR { peer[$1 "|" $2] = $3; next }
	FNR == 1 { printf "%-14s %-18s %12s %12s %8s\n", "schedule", "zone", "jobconfig", "croner", "ratio" }
	{ printf "%-14s %-18s %12s %12s %7.1fx\n", $1, $2, $3, peer[$1 "|" $2], peer[$1 "|" $2] / $3 }
' <(echo "$peer_results") <(echo "$c_results")
