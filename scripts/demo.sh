#!/usr/bin/env bash
# scripts/demo.sh: jobconfig on a throwaway cluster.
#
# Installs what is missing from Debian's packages, builds and installs the
# extension, starts a cluster as the postgres user with jobconfig in
# shared_preload_libraries (Unix socket only), creates a job of each trigger
# kind through the SQL API, and prints what a user sees.  The cluster is
# removed at the end; KEEP=1 leaves it running and says how to connect.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

install_packages
build_and_install

dir=$(mktemp -d /tmp/jobconfig-demo.XXXXXX)
chown postgres "$dir"
as_postgres "$PG_BINDIR/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
cat >> "$dir/data/postgresql.conf" <<CONF
shared_preload_libraries = 'jobconfig'
listen_addresses = ''
unix_socket_directories = '$dir'
port = 5433
CONF
as_postgres "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
stop() {
    as_postgres "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    rm -rf "$dir"
}
if [ "${KEEP:-0}" = 1 ]; then
    echo "== cluster kept: runuser -u postgres -- psql -h $dir -p 5433 postgres"
else
    trap stop EXIT
fi

as_postgres "$PG_BINDIR/psql" -h "$dir" -p 5433 -d postgres -X -v ON_ERROR_STOP=1 \
    -f "$JOBCONFIG_ROOT/scripts/demo.sql"
