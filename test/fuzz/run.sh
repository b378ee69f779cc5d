#!/bin/bash
# Build the cron fuzz harness with AddressSanitizer and UBSan, and run it.
#
#   PG_CONFIG=/usr/lib/postgresql/N/bin/pg_config test/fuzz/run.sh [seed [mutations [schedules]]]
#
# PG_CONFIG names the PostgreSQL whose headers to compile against;
# scripts/test.sh passes the one it tests.  Without it, pg_config on PATH.
#
# The pure cron files (parser, next-fire search, describer) are compiled
# against PostgreSQL's headers but linked with cron_fuzz_shim.c instead of
# a server.  Exits non-zero on any finding: a sanitizer report, a crash, a
# hang (timeout), or a mismatch reported by the harness itself.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
command -v "$PG_CONFIG" >/dev/null || { echo "$0: no $PG_CONFIG: set PG_CONFIG" >&2; exit 2; }
server_include=$("$PG_CONFIG" --includedir-server)
binary=${FUZZ_BINARY:-$here/cron_fuzz}

gcc -std=gnu99 -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-Wall -Werror -D_GNU_SOURCE \
	-I"$here" -I"$root/src" -I"$server_include" \
	-o "$binary" \
	"$here/cron_fuzz.c" "$here/cron_fuzz_shim.c" \
	"$root/src/cron_parse.c" "$root/src/cron_next.c" \
	"$root/src/cron_describe.c"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
timeout "${FUZZ_TIMEOUT:-900}" "$binary" "${1:-20260329}" "${2:-300000}" \
	"${3:-3000}"
