#!/bin/bash
# Time receive_webhook's refusals: a path that names a job against one that
# does not, and print both medians and their ratio.
#
#   bash bench/webhook/run.sh [--pg N] [calls]
#
# Runs as root on PostgreSQL N, or by default the one this Debian release
# ships (scripts/pg.sh), which must be installed with its server-dev
# package.  Like bench/run.sh, it builds and installs jobconfig from a clean
# copy of the tree and runs a throwaway cluster with bench/lib.sh's common
# settings, jobconfig preloaded, as the postgres OS user.
#
# A refusal must not tell a caller whether the path names a job: the
# look-up takes no lock and assigns no transaction id before the signature
# passed, reads a job's row either way, and an unknown path is checked
# against a throwaway key.  This measures that the two take as long:
# "calls" (default 10,000) refused calls to each, interleaved, every one
# with the same body, timestamp and wrong signature, each timed inside the
# backend on the monotonic clock from the start of a subtransaction to the
# end of its rollback (webhook_bench.c).  The goal is a ratio within 2% of
# 1.  Nothing passes or fails here: the numbers are printed, and
# bench/README.md says what they mean.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

pg=""
if [ "${1:-}" = --pg ]; then
	pg=$2
	shift 2
fi
calls=${1:-10000}
pg_select "$pg"

bench_setup_tmp
trap bench_cleanup EXIT
cd "$BENCH_TMP"             # readable by the postgres OS user, unlike /root
why=$(build_jobconfig) || { echo "bench/webhook/run.sh: jobconfig $why" >&2; exit 1; }
mkdir "$BENCH_TMP/module"
cp "$BENCH_DIR/webhook/Makefile" "$BENCH_DIR/webhook/webhook_bench.c" "$BENCH_TMP/module/"
make -s -C "$BENCH_TMP/module" PG_CONFIG="$PG_CONFIG" >/dev/null

cluster_start webhook jobconfig
# A hundred webhook jobs, their secrets as long as typical ones, and the
# state a live server reaches (vacuumed, analyzed).
cluster_psql bench -c "CREATE EXTENSION jobconfig" \
	-c "SELECT count(jobconfig.create_job('hook-' || i, jsonb_build_object(
		'trigger', jsonb_build_object('type', 'webhook', 'webhook',
			jsonb_build_object('path', 'hook-' || i, 'secret', 'whsec-' || md5(i::text))),
		'execution', jsonb_build_object('command', 'SELECT 1'))))
	    FROM generate_series(1, 100) AS i" \
	-c "VACUUM ANALYZE jobconfig.job_configs, jobconfig.job_secrets" \
	-c "CREATE FUNCTION webhook_bench_refusals(text, text, int) RETURNS float8[]
		AS '$BENCH_TMP/module/webhook_bench.so', 'webhook_bench_refusals' LANGUAGE C STRICT" >/dev/null

# Two pairs: a job's path against the same path one character longer (the
# question an attacker asks of a guess), and the first path of all against
# one after the last (as far apart in the index as paths can be).
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"PostgreSQL $("$PG_BINDIR/postgres" --version | sed 's/^postgres (PostgreSQL) //')"
echo "receive_webhook refusals, $calls calls to each path of a pair, interleaved; median per call"
printf '%-34s %12s %12s %8s\n' "path of a job / path of none" "job (us)" "none (us)" "ratio"
for pair in "hook-42 hook-420" "hook-1 zzzz"; do
	read -r known unknown <<<"$pair"
	result=$(cluster_psql bench -A -t -c "SELECT m[1] || ' ' || m[2]
		FROM webhook_bench_refusals('$known', '$unknown', $calls) AS m")
	read -r known_ns unknown_ns <<<"$result"
	awk -v p="$known / $unknown" -v k="$known_ns" -v u="$unknown_ns" \
		'BEGIN { printf "%-34s %12.2f %12.2f %8.4f\n", p, k / 1000, u / 1000, k / u }'
done
