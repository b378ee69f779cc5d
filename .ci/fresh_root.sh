# .ci/fresh_root.sh: pristine Debian roots for .ci/run.  Sourced, not run.
#
#   root_create SUITE DIR     debootstrap a minimal root of SUITE into DIR
#   root_mount DIR            mount what PostgreSQL needs inside it
#   root_run DIR CMD...       run CMD in it, as root, with a fresh login's
#                             environment
#   root_remove DIR           stop what still runs in it, unmount, delete
#
# A root is what a new Debian machine starts from: debootstrap's minbase
# variant, the release's apt sources (its -updates and -security too, but
# for sid), /etc/hosts.  Nothing of the machine CI runs on is visible in
# it, so a package the tests need and do not install is missed there.  The
# root shares the host's network; packages may not start services in it
# (policy-rc.d), so no packaged cluster takes a port of the host.

# apt_mirror ARCHIVE: the first URI of this machine's apt sources whose
# path ends in /ARCHIVE ("debian", "debian-security"), or nothing.  The
# mirror is never written down here: what this machine uses, roots use.
apt_mirror() {
    local archive=$1
    {
        cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs: *//p' | tr ' ' '\n'
        cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\).*/\2/p'
    } | sed 's:/*$::' | grep -E "/$archive\$" | head -n 1 || true
}

root_create() {
    local suite=$1 dir=$2 mirror security
    mirror=$(apt_mirror debian)
    security=$(apt_mirror debian-security)
    [ -n "$mirror" ] || { echo "no Debian mirror in this machine's apt sources" >&2; return 1; }
    command -v debootstrap >/dev/null || {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
    } || return 1
    mkdir -p "$dir"
    # In the background, waited for: a signal to .ci/run is handled at
    # once, and root_remove can stop debootstrap.
    debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$dir.debootstrap.log" 2>&1 &
    ROOT_BUILDER_PID=$!
    wait "$ROOT_BUILDER_PID" || { tail -n 20 "$dir.debootstrap.log" >&2; return 1; }
    ROOT_BUILDER_PID=""
    rm -f "$dir.debootstrap.log"
    {
        echo "deb $mirror $suite main"
        if [ "$suite" != sid ]; then
            echo "deb $mirror $suite-updates main"
            [ -z "$security" ] || echo "deb $security $suite-security main"
        fi
    } >"$dir/etc/apt/sources.list"
    # A mirror's index, sid's above all, may be older than its Valid-Until.
    echo 'Acquire::Check-Valid-Until "false";' >"$dir/etc/apt/apt.conf.d/99jobconfig-ci"
    printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$dir/etc/hosts"
    printf '#!/bin/sh\n# .ci/fresh_root.sh: no service starts in a CI root\nexit 101\n' \
        >"$dir/usr/sbin/policy-rc.d"
    chmod 755 "$dir/usr/sbin/policy-rc.d" "$dir"
}

# ROOT_BUILDER_PID: the debootstrap at work, if any, for root_remove.
ROOT_BUILDER_PID=""

root_mount() {
    local dir=$1
    root_mount_one "$dir/proc" -t proc proc
    root_mount_one "$dir/sys" -t sysfs sysfs
    root_mount_one "$dir/dev" --bind /dev
    root_mount_one "$dir/dev/pts" -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts
    root_mount_one "$dir/dev/shm" -t tmpfs -o mode=1777,nosuid,nodev tmpfs
}

# root_mount_one TARGET MOUNT-ARGS...: mount at TARGET, made if need be.
root_mount_one() {
    local target=$1; shift
    mkdir -p "$target" && mount "$@" "$target"
}

root_run() {
    local dir=$1; shift
    chroot "$dir" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash \
        LANG=C.UTF-8 TERM=dumb CI="${CI:-}" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

root_remove() {
    local dir=$1 real pid mountpoint
    if [ -n "$ROOT_BUILDER_PID" ]; then
        kill "$ROOT_BUILDER_PID" 2>/dev/null
        wait "$ROOT_BUILDER_PID" 2>/dev/null
        ROOT_BUILDER_PID=""
    fi
    rm -f "$dir.debootstrap.log"
    [ -d "$dir" ] || return 0
    real=$(cd "$dir" && pwd -P)
    # Whatever still runs in the root (a server a test left behind) would
    # keep its mounts busy.
    for pid in /proc/[0-9]*; do
        [ "$(readlink "$pid/root" 2>/dev/null)" = "$real" ] && kill -9 "${pid#/proc/}" 2>/dev/null
    done
    sleep 0.2
    # Every mount under the root, ours and debootstrap's, deepest first.
    for mountpoint in $(awk -v root="$real/" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r); do
        umount "$mountpoint" 2>/dev/null || umount -l "$mountpoint"
    done
    if awk -v root="$real/" 'index($2, root) == 1 {found = 1} END {exit !found}' /proc/mounts; then
        echo "still mounted under $real: left in place" >&2
        return 1
    fi
    rm -rf --one-file-system "$dir"
}
