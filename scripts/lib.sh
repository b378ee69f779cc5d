# scripts/lib.sh: what the demo and the test command share.  Sourced, not run.
#
# PostgreSQL refuses to run as root, so servers and tests run as the
# "postgres" OS user on throwaway clusters in temporary directories,
# reachable through a Unix socket only.

PG_BINDIR=/usr/lib/postgresql/15/bin
PGXS_DIR=/usr/lib/postgresql/15/lib/pgxs
JOBCONFIG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the build, the tests and the demo need.
JOBCONFIG_PACKAGES=(
    postgresql-15 postgresql-server-dev-15 postgresql-client-15
    libcurl4-openssl-dev libipc-run-perl python3-jsonschema
    gcc make
)

# install_packages: install whatever of JOBCONFIG_PACKAGES is missing.
install_packages() {
    local missing=() pkg
    for pkg in "${JOBCONFIG_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "== installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# build_and_install: compile with warnings as errors, install into PostgreSQL.
build_and_install() {
    echo "== building jobconfig"
    make -C "$JOBCONFIG_ROOT" -s PG_CONFIG="$PG_BINDIR/pg_config" >/dev/null
    make -C "$JOBCONFIG_ROOT" -s PG_CONFIG="$PG_BINDIR/pg_config" install >/dev/null
}

# as_postgres CMD...: run a command as the postgres OS user.
as_postgres() {
    runuser -u postgres -- "$@"
}

# postgres_workdir: a fresh copy of the tree the postgres user may write in.
postgres_workdir() {
    local dir
    dir=$(mktemp -d /tmp/jobconfig.XXXXXX)
    cp -a "$JOBCONFIG_ROOT"/. "$dir"
    chown -R postgres "$dir"
    echo "$dir"
}
