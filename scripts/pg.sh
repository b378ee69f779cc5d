# scripts/pg.sh: which PostgreSQL a script builds and runs against.
# Sourced, not run, by scripts/lib.sh, bench/lib.sh, bench/cron/run.sh and
# .ci/run.
#
#   pg_select [N]      choose PostgreSQL N, or by default the version this
#                      Debian release ships; sets PG_MAJOR, PG_BINDIR,
#                      PG_CONFIG, PGXS_DIR and PG_PACKAGES, or says why not
#                      and returns non-zero.
#
# Debian installs each major version side by side under
# /usr/lib/postgresql/N, so the paths follow from N alone, on every machine.

# The versions jobconfig builds for (src/compat.h), and the Debian release
# that ships each one CI tests (.ci/run), oldest first: 16 is in no Debian
# release, so it is built for but not tested.
PG_SUPPORTED_VERSIONS=(15 16 17 18)
PG_TESTED_RELEASES=(bookworm:15 trixie:17 sid:18)

# pg_release_version: the major version of the postgresql package this
# machine's apt sources offer (Debian's "postgresql" depends on exactly
# one postgresql-N).  Reads the package lists, fetching them first when a
# fresh machine has none.
pg_release_version() {
    local version
    version=$(pg_candidate_version)
    if [ -z "$version" ]; then
        apt-get update -qq >&2 || true
        version=$(pg_candidate_version)
    fi
    [ -n "$version" ] || { echo "no postgresql package in this machine's apt sources" >&2; return 1; }
    echo "$version"
}

# pg_candidate_version: N of the postgresql-N that the package lists have
# "postgresql" depend on, or nothing.
pg_candidate_version() {
    apt-cache depends postgresql 2>/dev/null \
        | sed -n 's/^ *Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n 1
}

# pg_release_name: what to call this machine's release in a message.
pg_release_name() {
    local name
    name=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-}")
    echo "${name:-this release}"
}

# pg_is_supported N: whether jobconfig builds for PostgreSQL N.
pg_is_supported() {
    local v
    for v in "${PG_SUPPORTED_VERSIONS[@]}"; do [ "$v" = "$1" ] && return 0; done
    return 1
}

# pg_select [N]: see above.
pg_select() {
    local version=${1:-}
    if [ -z "$version" ]; then
        version=$(pg_release_version) || return 1
        pg_is_supported "$version" || {
            echo "PostgreSQL $version, which $(pg_release_name) ships, is not supported yet" \
                "(jobconfig supports ${PG_SUPPORTED_VERSIONS[*]}); choose one with --pg N" >&2
            return 1
        }
    elif ! pg_is_supported "$version"; then
        echo "PostgreSQL '$version' is not supported (jobconfig supports ${PG_SUPPORTED_VERSIONS[*]})" >&2
        return 1
    fi
    PG_MAJOR=$version
    PG_BINDIR=/usr/lib/postgresql/$version/bin
    PG_CONFIG=$PG_BINDIR/pg_config
    PGXS_DIR=/usr/lib/postgresql/$version/lib/pgxs
    PG_PACKAGES=(postgresql-"$version" postgresql-server-dev-"$version" postgresql-client-"$version")
}
