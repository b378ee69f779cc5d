#!/usr/bin/env bash
# scripts/demo.sh: jobconfig on a throwaway cluster.
#
# Installs what is missing from Debian's packages, builds and installs the
# extension, starts a cluster as the postgres user with jobconfig in
# shared_preload_libraries (Unix socket only), creates a job of each trigger
# kind through the SQL API, calls the webhook, and prints what a user sees,
# including the Slack and email notifications that reach two local sinks
# (t/sinks/, loopback only).  The cluster is removed at the end; KEEP=1
# leaves it running and says how to connect.  --pg N: as for
# scripts/test.sh, the PostgreSQL to run (default: the one this Debian
# release ships).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

pg=""
case ${1:-} in
    --pg) pg=${2:-} ;;
    --pg=*) pg=${1#--pg=} ;;
    "") ;;
    *) echo "usage: bash scripts/demo.sh [--pg N]" >&2; exit 2 ;;
esac
pg_select "$pg"
install_packages
build_and_install

# Everything the postgres user reads (the sinks, demo.sql) is copied here:
# the checkout itself may be where postgres cannot look, such as /root.
dir=$(mktemp -d /tmp/jobconfig-demo.XXXXXX)
cp -r "$JOBCONFIG_ROOT/t/sinks" "$JOBCONFIG_ROOT/scripts/demo.sql" "$dir/"
chown -R postgres "$dir"

# stop: the cluster, the sinks and the directory, however the demo ends.
sink_pids=()
stop() {
    [ ! -f "$dir/data/postmaster.pid" ] \
        || as_postgres "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    # runuser passes the signal on to the sink it runs.
    [ ${#sink_pids[@]} -eq 0 ] || kill "${sink_pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap stop EXIT

# The local sinks: a Slack-like HTTP endpoint and an SMTP server.
free_port() {
    perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport'
}
http_port=$(free_port)
smtp_port=$(free_port)
sink() {
    local kind=$1 port=$2
    # runuser itself, not as_postgres: $! must be its pid, not a subshell's.
    runuser -u postgres -- perl "$dir/sinks/${kind}_sink.pl" --host 127.0.0.1 --port "$port" \
        --record "$dir/$kind.jsonl" --ready "$dir/$kind.ready" >>"$dir/$kind.log" 2>&1 &
    sink_pids+=($!)
    for _ in $(seq 100); do [ -e "$dir/$kind.ready" ] && return; sleep 0.05; done
    echo "the $kind sink did not start: $(cat "$dir/$kind.log")" >&2
    exit 1
}
sink http $http_port
sink smtp $smtp_port

as_postgres "$PG_BINDIR/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
cat >> "$dir/data/postgresql.conf" <<CONF
shared_preload_libraries = 'jobconfig'
listen_addresses = ''
unix_socket_directories = '$dir'
port = 5433
# Notifications go to the local sinks: the loopback host must be listed by
# name, and the sink speaks plain HTTP (a real Slack URL is https).
jobconfig.smtp_url = 'smtp://127.0.0.1:$smtp_port'
jobconfig.smtp_from = 'jobconfig demo <jobs@example.com>'
jobconfig.notify_allowed_hosts = '127.0.0.1'
jobconfig.notify_insecure_http = on
CONF
as_postgres "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
if [ "${KEEP:-0}" = 1 ]; then
    trap - EXIT
    echo "== cluster kept: runuser -u postgres -- psql -h $dir -p 5433 postgres"
fi

# A webhook call as a sender signs it: HMAC-SHA256 of "timestamp.body".
secret=demo-secret-0123456789
body='{"ref": "refs/heads/main", "sha": "4f2a9c1"}'
ts=$(date +%s)
signature="sha256=$(perl -MDigest::SHA=hmac_sha256_hex -e 'print hmac_sha256_hex("$ARGV[0].$ARGV[1]", $ARGV[2])' "$ts" "$body" "$secret")"

as_postgres "$PG_BINDIR/psql" -h "$dir" -p 5433 -d postgres -X -v ON_ERROR_STOP=1 \
    -v http_port="$http_port" -v body="$body" -v signature="$signature" -v ts="$ts" \
    -f "$dir/demo.sql"

echo
echo "== what the Slack-like sink received (http://127.0.0.1:$http_port)"
perl -MJSON::PP -ne 'my $r = decode_json($_); my $t = eval { decode_json($r->{body})->{text} } // $r->{body};
    print "POST $r->{target}\n$t\n\n"' "$dir/http.jsonl"
echo "== what the SMTP sink received (127.0.0.1:$smtp_port)"
perl -MJSON::PP -ne 'my $r = decode_json($_); my ($h, $b) = split /\r\n\r\n/, $r->{data}, 2; $h =~ s/\r\n[ \t]+/ /g;
    $b =~ s/=\r\n//g; $b =~ s/=([0-9A-F]{2})/chr hex $1/ge; $b =~ s/\r//g;
    print join("\n", grep { /^(From|To|Subject|Date):/ } split /\r\n/, $h), "\n\n$b\n"' "$dir/smtp.jsonl"
