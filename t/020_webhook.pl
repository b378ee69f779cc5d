# Inbound webhooks: jobconfig.receive_webhook(path, body, signature,
# timestamp) runs the job whose trigger.webhook.path is path, with the body
# as its input, when signature is "sha256=" || hex(HMAC-SHA256(secret,
# message)).  Each job takes one form, its trigger.webhook.signature:
# "timestamp" (the default, Stripe's), message = timestamp || '.' || body
# with the timestamp sent and within toleranceSeconds of now, each call
# accepted once; or "body" (GitHub's), message = the body, no timestamp
# sent.  Anyone may call it, anon included; every refusal queues nothing,
# a wrong signature, a call in the other form and an unknown path look the
# same, no error shows a secret, and a validly signed body that jsonb
# cannot hold still runs the job, as a jsonb string.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use JobconfigTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::SHA qw(hmac_sha256_hex);

my $node = JobconfigTest::start_node('webhook', max_workers => 2);
$node->safe_psql('postgres', q{
	CREATE TABLE public.hooks (id serial PRIMARY KEY, job text, input jsonb,
	                           who text DEFAULT current_user);
	GRANT INSERT ON public.hooks TO service_role;
	GRANT USAGE ON SEQUENCE public.hooks_id_seq TO service_role;
	CREATE ROLE stranger NOLOGIN;
});

my $secret = 'whsec-Deploy-0123456789-abcdef';
my $other_secret = 'whsec-Other-9876543210-fedcba';
my $quick_secret = 'whsec-Quick-5555555555-aaaaaa';
my $sleepy_secret = 'whsec-Sleepy-777777777-bbbbbb';
my $stripe_secret = 'whsec-Stripe-333333333-dddddd';
my @secrets = ($secret, $other_secret, $quick_secret, $sleepy_secret, $stripe_secret);

# webhook_job(job_id, path, secret, signature => 'body' | 'timestamp',
# tolerance => s, enabled => 'false'): a webhook job that records its
# input, created by a writer (service_role) to run as itself.
sub webhook_job
{
	my ($id, $path, $key, %opt) = @_;
	my $enabled = $opt{enabled} // 'true';
	my $hook = qq{"path": "$path", "secret": "$key", "signature": "$opt{signature}"};
	$hook .= qq{, "toleranceSeconds": $opt{tolerance}} if defined $opt{tolerance};
	$node->safe_psql('postgres', qq{SET ROLE service_role; SELECT jobconfig.create_job('$id', \$jc\${
		"enabled": $enabled,
		"trigger": {"type": "webhook", "webhook": {$hook}},
		"execution": {"command": "INSERT INTO public.hooks (job, input) VALUES ('$id', jobconfig.current_input())",
		              "retry": {"maxAttempts": 1}}}\$jc\$)});
}
# GitHub's scheme for most, Stripe's for "stripe" and "quick".
webhook_job('deploy', 'deploy', $secret, signature => 'body');
webhook_job('other', 'other-hook', $other_secret, signature => 'body');
webhook_job('stripe', 'stripe', $stripe_secret, signature => 'timestamp', tolerance => 300);
webhook_job('quick', 'quick', $quick_secret, signature => 'timestamp', tolerance => 2);
webhook_job('sleepy', 'sleepy', $sleepy_secret, signature => 'body', enabled => 'false');

# sign(secret, body, timestamp): the signature a sender computes.
sub sign
{
	my ($key, $body, $ts) = @_;
	return 'sha256=' . hmac_sha256_hex(defined $ts ? "$ts.$body" : $body, $key);
}

# lit(value): an SQL literal (dollar-quoted), or NULL for undef.
sub lit
{
	my ($v) = @_;
	return 'NULL' unless defined $v;
	die "value contains the quote tag" if $v =~ /\$wh\$/;
	return "\$wh\$$v\$wh\$";
}

# hook(path, body, signature, [timestamp], role => r, named => 1): call
# receive_webhook; return {id} on success, else {sqlstate, message, error}
# with error the whole verbose report minus psql's own prefix.
my @all_errors;
sub hook
{
	my ($path, $body, $sig, @rest) = @_;
	my ($has_ts, $ts) = (0, undef);
	($has_ts, $ts) = (1, shift @rest) if @rest % 2;
	my %opt = @rest;
	my $args = $opt{named}
	  ? 'path => ' . lit($path) . ', body => ' . lit($body) . ', signature => ' . lit($sig)
	  . ($has_ts ? ', "timestamp" => ' . lit($ts) : '')
	  : join(', ', map { lit($_) } $path, $body, $sig, ($has_ts ? ($ts) : ()));
	my $sql = "\\set VERBOSITY verbose\n"
	  . ($opt{role} ? "SET ROLE $opt{role};\n" : '')
	  . "SELECT jobconfig.receive_webhook($args);\n";
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	return { id => $out } if $ret == 0;
	push @all_errors, $err;
	my ($state, $message) = $err =~ /ERROR:\s+([0-9A-Z]{5}):\s+([^\n]*)/;
	(my $report = $err) =~ s/^psql:[^:]*:\d+:\s*//mg;
	return { sqlstate => $state // "(no SQLSTATE in: $err)", message => $message // '', error => $report };
}

# query(sql): its output, or its error (a test fails rather than the script
# dying when something is missing).
sub query
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	return $ret == 0 ? $out : $err;
}

# count(): executions in all.
sub count
{
	return $node->safe_psql('postgres', 'SELECT count(*) FROM jobconfig.job_executions');
}

# wait_done(id): wait for the run to end, return "status|trigger_source|job_id".
sub wait_done
{
	my ($id) = @_;
	return '(no execution)' unless defined $id && $id =~ /^[1-9]\d*$/;
	JobconfigTest::wait_until($node,
		"SELECT status NOT IN ('queued', 'running') FROM jobconfig.job_executions WHERE id = $id")
	  or die "execution $id did not end";
	return $node->safe_psql('postgres',
		"SELECT concat_ws('|', status, trigger_source, job_id) FROM jobconfig.job_executions WHERE id = $id");
}

is(query('SHOW jobconfig.webhook_max_bytes'), '1MB',
	'jobconfig.webhook_max_bytes defaults to 1MB');
is(query(q{SELECT p.prosecdef AND EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
	FROM pg_proc p WHERE p.oid = 'jobconfig.receive_webhook(text, text, text, text)'::regprocedure}),
	't', 'receive_webhook is SECURITY DEFINER with a pinned search_path');

# A signed JSON body runs the job, with the body as its input.
my $body = '{"ref": "refs/heads/main", "commits": 3, "pusher": {"name": "ada"}}';
my $r = hook('deploy', $body, sign($secret, $body));
like($r->{id}, qr/^\d+$/, 'a correctly signed call returns an execution id')
  or diag explain $r;
my $id = $r->{id} // 0;
is(wait_done($id), 'succeeded|webhook|deploy', 'the webhook run of the job ran, trigger_source webhook');
is($node->safe_psql('postgres', "SELECT input = \$wh\$$body\$wh\$::jsonb FROM jobconfig.job_executions WHERE id = $id"),
	't', 'its input is the body, as jsonb');
is($node->safe_psql('postgres', q{SELECT input #>> '{pusher,name}' FROM public.hooks WHERE job = 'deploy' ORDER BY id DESC LIMIT 1}),
	'ada', 'the job saw the body through jobconfig.current_input()');

# Hex in upper case is the same signature.
$body = '{"n": 2}';
$r = hook('deploy', $body, 'sha256=' . uc hmac_sha256_hex($body, $secret));
like($r->{id}, qr/^\d+$/, 'a signature in upper-case hex is accepted') or diag explain $r;
wait_done($r->{id});

# A body that is not JSON arrives as a JSON string.
$body = 'ping from CI: build 7 ok';
$r = hook('deploy', $body, sign($secret, $body));
like($r->{id}, qr/^\d+$/, 'a body that is not JSON is accepted') or diag explain $r;
$id = $r->{id} // 0;
wait_done($id);
is($node->safe_psql('postgres', "SELECT jsonb_typeof(input) || '|' || (input #>> '{}') FROM jobconfig.job_executions WHERE id = $id"),
	"string|$body", 'and becomes a jsonb string input');
is($node->safe_psql('postgres', q{SELECT input #>> '{}' FROM public.hooks WHERE job = 'deploy' ORDER BY id DESC LIMIT 1}),
	$body, 'which current_input() returns');

# The signature is over the bytes of the body: UTF-8 included.
$body = '{"msg": "Grüße ✓"}';
$r = hook('deploy', $body, sign($secret, $body));
like($r->{id}, qr/^\d+$/, 'a UTF-8 body signed over its bytes is accepted') or diag explain $r;
$id = $r->{id} // 0;
wait_done($id);
is($node->safe_psql('postgres', "SELECT input ->> 'msg' FROM jobconfig.job_executions WHERE id = $id"),
	'Grüße ✓', 'and arrives intact');

# Stripe's convention: the timestamp is signed with the body.  Named
# arguments, as PostgREST calls it.
$body = '{"event": "invoice.paid"}';
my $now = $node->safe_psql('postgres', 'SELECT extract(epoch FROM now())::bigint');
my $tsig = sign($stripe_secret, $body, $now);
$r = hook('stripe', $body, $tsig, $now, named => 1);
like($r->{id}, qr/^\d+$/, 'a fresh signed timestamp is accepted (named arguments)') or diag explain $r;
my $first = $r->{id} // 0;
is(wait_done($first), 'succeeded|webhook|stripe', 'and runs the job');
# Stripe's convention checks only the age of the timestamp; jobconfig also
# remembers each signed call until its tolerance has passed, so the same
# call replayed within the tolerance is refused too, and queues nothing.
my $queued = count();
$r = hook('stripe', $body, $tsig, $now);
is($r->{sqlstate}, '28000', 'the same signed call replayed within its tolerance is refused with 28000');
like($r->{message}, qr/received before/, 'and the message says it was received before');
is(count(), $queued, 'and the replay queued nothing');
$r = hook('stripe', $body, uc($tsig), $now);
is($r->{sqlstate}, '28000', 'so is the replay with its signature in upper case');
is(count(), $queued, 'which queued nothing either');

# Refusals: nothing queued, SQLSTATE 28000, the same message whether the
# path exists or not, and whether the signature is wrong or in the form the
# job does not take.
my $before = count();
$body = '{"ref": "refs/heads/main", "amount": 17}';
my $good = sign($secret, $body);
(my $altered = $body) =~ s/17/18/;
my $hour_ago = $now - 3600;
my %refused = (
	'a signature made with another secret' => hook('deploy', $body, sign('not-the-secret-at-all', $body)),
	'a malformed signature' => hook('deploy', $body, 'sha256=zzzz'),
	'a NULL signature' => hook('deploy', $body, undef),
	'an empty signature' => hook('deploy', $body, ''),
	'a body altered by one byte' => hook('deploy', $altered, $good),
	'a body-signed job sent a timestamp beside its signature' => hook('deploy', $body, $good, $now),
	'a body-signed job sent a timestamp-signed call' => hook('deploy', $body, sign($secret, $body, $now), $now),
	'a body-signed job sent a timestamp signature without the timestamp' => hook('deploy', $body, sign($secret, $body, $now)),
	'a timestamp-signed job sent the body signed alone' => hook('stripe', $body, sign($stripe_secret, $body)),
	# A call captured an hour ago, sent again as the body "<timestamp>.<body>"
	# without a timestamp: its signature is right for that body, and once
	# passed both the tolerance and the once-only guard.
	'a timestamp-signed call replayed as "<timestamp>.<body>" without a timestamp'
	  => hook('stripe', "$hour_ago.$body", sign($stripe_secret, $body, $hour_ago)),
	'the right secret for another path' => hook('other-hook', $body, $good),
	'an unknown path' => hook('no-such-hook', $body, $good),
	'an unknown path, unsigned' => hook('no-such-hook', $body, undef),
	'an unknown path, with a timestamp' => hook('no-such-hook', $body, sign($secret, $body, $now), $now),
	'a disabled job, wrong signature' => hook('sleepy', $body, sign('not-the-secret-at-all', $body)),
);
my $reference = $refused{'a signature made with another secret'};
foreach my $case (sort keys %refused)
{
	is($refused{$case}{sqlstate}, '28000', "refused with 28000: $case");
	is($refused{$case}{message}, $reference->{message}, "with the same message: $case");
}
is($refused{'an unknown path'}{error}, $refused{'a body altered by one byte'}{error},
	'the whole error report (detail, hint, source location) for an unknown path is that of a bad signature');
is($refused{'an unknown path, with a timestamp'}{error}, $refused{'a timestamp-signed job sent the body signed alone'}{error},
	'and that of a call in the form the job does not take');
is(count(), $before, 'no refused call queued anything');

# Timestamps outside the tolerance are refused with 28000, timestamps that
# are not Unix seconds with 22007; signed correctly or not.
foreach my $case (['ten minutes old', $now - 600, '28000'], ['ten minutes ahead', $now + 600, '28000'],
	['not a number', 'yesterday', '22007'], ['fractional garbage', '17e99', '22007'])
{
	my ($what, $ts, $code) = @$case;
	$r = hook('stripe', $body, sign($stripe_secret, $body, $ts), $ts);
	is($r->{sqlstate}, $code, "a timestamp $what is refused with $code");
	like($r->{message}, qr/timestamp/i, "and the message says it is the timestamp ($what)");
}
is(count(), $before, 'nothing queued for a bad timestamp');

# A replay is accepted only within the tolerance: job "quick" allows 2 s.
$now = $node->safe_psql('postgres', 'SELECT extract(epoch FROM now())::bigint');
$tsig = sign($quick_secret, $body, $now);
$r = hook('quick', $body, $tsig, $now);
like($r->{id}, qr/^\d+$/, 'a fresh request to a 2 s tolerance job is accepted') or diag explain $r;
wait_done($r->{id});
JobconfigTest::wait_until($node, "SELECT extract(epoch FROM clock_timestamp()) > $now + 4");
$before = count();
$r = hook('quick', $body, $tsig, $now);
is($r->{sqlstate}, '28000', 'the same request replayed after its tolerance is refused');
like($r->{message}, qr/timestamp/i, 'because of its timestamp');
is(count(), $before, 'and queues nothing');

# A disabled job, correctly signed: 55000, nothing queued; enabled, it runs.
$body = '{"wake": "up"}';
$r = hook('sleepy', $body, sign($sleepy_secret, $body));
is($r->{sqlstate}, '55000', 'a disabled job, correctly signed, is refused with 55000');
is(count(), $before, 'and nothing is queued');
$node->safe_psql('postgres', q{SET ROLE service_role; SELECT jobconfig.set_job_enabled('sleepy', true)});
$r = hook('sleepy', $body, sign($sleepy_secret, $body));
like($r->{id}, qr/^\d+$/, 'once enabled, the same call runs it') or diag explain $r;
is(wait_done($r->{id}), 'succeeded|webhook|sleepy', 'and it ran');

# A new secret replaces the old one at once.
$node->safe_psql('postgres', qq{SET ROLE service_role; SELECT jobconfig.update_job('other', \$jc\${
	"trigger": {"type": "webhook", "webhook": {"path": "other-hook", "secret": "whsec-Rotated-1111111111-cccccc", "signature": "body"}},
	"execution": {"command": "INSERT INTO public.hooks (job, input) VALUES ('other', jobconfig.current_input())",
	              "retry": {"maxAttempts": 1}}}\$jc\$)});
push @secrets, 'whsec-Rotated-1111111111-cccccc';
$before = count();
$r = hook('other-hook', $body, sign($other_secret, $body));
is($r->{sqlstate}, '28000', 'after the secret is rotated, the old secret is refused');
is(count(), $before, 'and queues nothing');
$r = hook('other-hook', $body, sign('whsec-Rotated-1111111111-cccccc', $body));
like($r->{id}, qr/^\d+$/, 'the new secret is accepted') or diag explain $r;
wait_done($r->{id});

# anon can call it, and the run happens with the job's own role; anon can
# still do nothing else.  So can any role at all.
$body = '{"from": "anon"}';
$r = hook('deploy', $body, sign($secret, $body), role => 'anon');
like($r->{id}, qr/^\d+$/, 'anon can call receive_webhook') or diag explain $r;
is(wait_done($r->{id}), 'succeeded|webhook|deploy', 'and the run happens');
is($node->safe_psql('postgres', q{SELECT who FROM public.hooks WHERE input ->> 'from' = 'anon'}),
	'service_role', 'as the job runAs role, not as anon');
$r = hook('deploy', $body, sign('not-the-secret-at-all', $body), role => 'anon');
is($r->{sqlstate}, '28000', 'anon with a bad signature gets 28000 too');
my ($ret, $out, $err) = $node->psql('postgres', 'SET ROLE anon; SELECT count(*) FROM jobconfig.job_configs');
ok(($ret == 0 && $out eq '0') || $err =~ /permission denied/, 'anon still reads no job_configs row')
  or diag "ret $ret, out $out, err $err";
($ret, $out, $err) = $node->psql('postgres', 'SET ROLE anon; SELECT count(*) FROM jobconfig.job_secrets');
ok(($ret == 0 && $out eq '0') || $err =~ /permission denied/, 'nor any secret')
  or diag "ret $ret, out $out, err $err";
($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nSET ROLE anon; SELECT jobconfig.run_job('deploy')");
like($err, qr/ERROR:\s+42501:/, 'and still cannot call run_job');
($ret, $out, $err) = $node->psql('postgres', "SET ROLE anon; SET jobconfig.webhook_max_bytes = '100MB'");
isnt($ret, 0, 'anon cannot raise jobconfig.webhook_max_bytes for its session');
$body = '{"from": "stranger"}';
$r = hook('deploy', $body, sign($secret, $body), role => 'stranger');
like($r->{id}, qr/^\d+$/, 'a role jobconfig knows nothing of can call it too') or diag explain $r;
wait_done($r->{id});

# A validly signed body that jsonb cannot hold -- a number beyond numeric's
# range, nesting deeper than the server's stack allows -- is not lost: the
# job runs with the body as a jsonb string, as for a body that is not JSON.
foreach my $case (['a number beyond numeric', '{"amount": 1e1000000}'],
	['nesting deeper than the stack allows', ('[' x 100000) . (']' x 100000)])
{
	my ($what, $b) = @$case;
	$r = hook('deploy', $b, sign($secret, $b));
	like($r->{id}, qr/^\d+$/, "a signed body with $what is accepted") or diag explain $r;
	is(wait_done($r->{id}), 'succeeded|webhook|deploy', "and the job runs ($what)");
	is($node->safe_psql('postgres', qq{SELECT jsonb_typeof(input) || '|' || (md5(input #>> '{}') = md5(\$wh\$$b\$wh\$))
		FROM public.hooks WHERE job = 'deploy' ORDER BY id DESC LIMIT 1}),
		'string|true', "with the body as a jsonb string for its input ($what)");
}
# Timestamped: the replay guard's row is written with the queued run, so
# the call is refused when sent again, and queues nothing then.
$body = '{"amount": 1e1000000}';
$now = $node->safe_psql('postgres', 'SELECT extract(epoch FROM now())::bigint');
$tsig = sign($stripe_secret, $body, $now);
$r = hook('stripe', $body, $tsig, $now);
like($r->{id}, qr/^\d+$/, 'a timestamped call with such a body is accepted') or diag explain $r;
is(wait_done($r->{id}), 'succeeded|webhook|stripe', 'and runs the job');
$before = count();
$r = hook('stripe', $body, $tsig, $now);
like($r->{message}, qr/received before/, 'and the same call sent again is refused as received before');
is(count(), $before, 'queueing nothing');

# Bodies over jobconfig.webhook_max_bytes (bytes, not characters): 54000.
($ret, $out, $err) = $node->psql('postgres', q{ALTER SYSTEM SET jobconfig.webhook_max_bytes = '1kB'});
is($ret, 0, 'a superuser can set jobconfig.webhook_max_bytes') or diag $err;
$node->reload;
JobconfigTest::wait_until($node, q{SELECT current_setting('jobconfig.webhook_max_bytes', true) = '1kB'})
  if $ret == 0;
$before = count();
$body = '{"pad": "' . ('x' x 2000) . '"}';
$r = hook('deploy', $body, sign($secret, $body));
is($r->{sqlstate}, '54000', 'a 2 kB body is refused with 54000 when the limit is 1kB');
$body = '{"pad": "' . ('é' x 600) . '"}';
$r = hook('deploy', $body, sign($secret, $body));
is($r->{sqlstate}, '54000', 'so is a body of 600 characters but 1,200 bytes');
is(count(), $before, 'an oversized body queues nothing');
$body = '{"pad": "' . ('x' x 900) . '"}';
$r = hook('deploy', $body, sign($secret, $body));
like($r->{id}, qr/^\d+$/, 'a body under the limit is accepted') or diag explain $r;
wait_done($r->{id});
$node->psql('postgres', 'ALTER SYSTEM RESET jobconfig.webhook_max_bytes');
$node->reload;

# No error ever showed a secret.
my @leaks = grep { my $e = $_; grep { index($e, $_) >= 0 } @secrets } @all_errors;
is(scalar(@leaks), 0, 'no error message contains a webhook secret') or diag explain \@leaks;
cmp_ok(scalar(@all_errors), '>=', 20, '(and the calls above did produce errors to check)');

ok(!$node->log_contains('terminated by signal'), 'no backend crashed');
$node->stop;
done_testing();
