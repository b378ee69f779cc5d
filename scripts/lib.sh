# scripts/lib.sh: what the demo and the test command share.  Sourced, not run.
#
# PostgreSQL refuses to run as root, so servers and tests run as the
# "postgres" OS user on throwaway clusters in temporary directories,
# reachable through a Unix socket only.

JOBCONFIG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$JOBCONFIG_ROOT/scripts/pg.sh"

# Debian packages the build, the tests and the demo need, besides the
# chosen PostgreSQL's own (PG_PACKAGES, scripts/pg.sh).
JOBCONFIG_PACKAGES=(
    libcurl4-openssl-dev libipc-run-perl python3-jsonschema
    gcc make
)

# install_packages: install whatever of JOBCONFIG_PACKAGES and PG_PACKAGES
# is missing.  A PostgreSQL this machine's apt sources do not offer is
# named, rather than left to apt's "unable to locate package".
install_packages() {
    local missing=() pkg
    for pkg in "${PG_PACKAGES[@]}" "${JOBCONFIG_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    echo "== installing ${missing[*]}"
    apt-get update -qq
    if ! apt-cache show "postgresql-$PG_MAJOR" >/dev/null 2>&1; then
        echo "PostgreSQL $PG_MAJOR is neither installed nor offered by this machine's apt" \
            "sources ($(pg_release_name) ships $(pg_release_version))" >&2
        return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build_and_install: compile with warnings as errors, install into the
# chosen PostgreSQL.
build_and_install() {
    echo "== building jobconfig for PostgreSQL $PG_MAJOR"
    make -C "$JOBCONFIG_ROOT" -s PG_CONFIG="$PG_CONFIG" >/dev/null
    make -C "$JOBCONFIG_ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
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
