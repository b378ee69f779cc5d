# Notifications: a run that ends for good (succeeded, or failed/timed out
# with no retry left) writes one outbox row per channel whose flag matches,
# in the transaction of its final record; the notifier delivers them to
# Slack (HTTP POST of {"text": ...}) and email (SMTP), retrying network
# errors, 5xx and 429 with backoff, refusing loopback/private hosts unless
# allowed; every state change of a run is also sent with NOTIFY.
#
# Everything is sent to sinks this test starts on loopback addresses
# (t/sinks/): nothing leaves the machine.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use lib "$FindBin::RealBin/sinks";
use JobconfigTest;
use Sinks;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use MIME::QuotedPrint qw(decode_qp);
use HTTP::Tiny;
use Encode ();
use Time::HiRes ();

# The sinks.  $http answers 200 unless a path has a script.
my $http = Sinks::start('http', script => [
	'/hook/T0/B0/flaky-secret=500,500,200',
	'/hook/T0/B0/ratelimited-secret=429,200',
	'/hook/T0/B0/gone-secret=404',
	'/hook/T0/B0/broken-secret=503,503,503,503,503,503,503,503,503,503',
]);
my $smtp = Sinks::start('smtp');
my $down = Sinks::start('http');                            # stopped below
my $private = Sinks::start('http', host => '127.0.0.2');    # loopback, but not allowed
Sinks::stop($down);

# url(sink, name): the Slack URL of a job; the secret part is the path.
sub url
{
	my ($sink, $name) = @_;
	return "https://$sink->{host}:$sink->{port}/hook/T0/B0/$name-secret";
}

my $node = JobconfigTest::start_node('notify', max_workers => 2, conf => qq{
jobconfig.notify_allowed_hosts = '127.0.0.1'
jobconfig.notify_insecure_http = on
jobconfig.notify_retry_delay = 1
jobconfig.notify_max_attempts = 4
jobconfig.smtp_url = 'smtp://127.0.0.1:$smtp->{port}'
jobconfig.smtp_from = 'jobconfig\@example.test'
});
$node->safe_psql('postgres', q{
	CREATE TABLE public.parent (id int PRIMARY KEY);
	CREATE TABLE public.child (parent_id int REFERENCES public.parent DEFERRABLE INITIALLY DEFERRED);
});

ok(JobconfigTest::wait_until($node, q{SELECT count(*) = 1 FROM pg_stat_activity
	WHERE backend_type = 'jobconfig notifier' AND datname = current_database()}),
	'one notifier runs for the database');
like(query('SHOW jobconfig.notify_retry_delay'), qr/^1\s*s?$/,
	'jobconfig.notify_retry_delay = 1 in postgresql.conf is one second');

# Listen to the events from the start.
my $listener = $node->background_psql('postgres');
$listener->set_query_timer_restart();
$listener->query_safe('LISTEN jobconfig_events');
my @events;

# drain(): collect the notifications the listener received so far.
sub drain
{
	my $out = $listener->query('SELECT 1');
	while ($out =~ /^Asynchronous notification "jobconfig_events" with payload "(.*)" received from server process with PID \d+\.$/mg)
	{
		my $payload = $1;
		my $event = eval { decode_json($payload) };
		push @events, $event // { unparsable => $payload };
	}
}

# events_of(execution_id): "status/attempt/triggerSource" of its events, in order.
sub events_of
{
	my ($id) = @_;
	return join ',', map { "$_->{status}/$_->{attempt}/$_->{triggerSource}" }
	  grep { defined $_->{executionId} && $_->{executionId} eq $id } @events;
}

# create(job_id, payload): create a job.
sub create
{
	my ($id, $payload) = @_;
	$node->safe_psql('postgres', "SELECT jobconfig.create_job('$id', \$jc\$$payload\$jc\$)");
}

# query(sql): its output (as the superuser, or as role).
sub query
{
	my ($sql, $role) = @_;
	$sql = "SET ROLE $role; $sql" if $role;
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	return $ret == 0 ? $out : "ERROR: $err";
}

# settled(job_id, n): wait until the job has n outbox rows, none pending.
sub settled
{
	my ($job, $n) = @_;
	return JobconfigTest::wait_until($node, qq{SELECT count(*) = $n AND bool_and(status <> 'pending')
		FROM jobconfig.notification_outbox WHERE job_id = '$job'});
}

# slack(path name): the requests the HTTP sink got for that job's URL,
# waiting (bounded) for at least n.
sub slack_requests
{
	my ($sink, $name, $n) = @_;
	my $path = "/hook/T0/B0/$name-secret";
	return Sinks::wait_for_records($sink, $n // 0, sub { $_[0]{target} eq $path });
}

# slack_text(request): the "text" of a Slack request body, or a note why not.
sub slack_json
{
	my ($request) = @_;
	return eval { JSON::PP->new->utf8->decode($request->{body}) } // { not_json => $request->{body} };
}

# email(message record): {headers => {lowercase name => value}, body => decoded text}.
sub email
{
	my ($record) = @_;
	my ($head, $body) = split /\r?\n\r?\n/, $record->{data}, 2;
	$head =~ s/\r?\n[ \t]+/ /g;    # unfold
	my %h;
	foreach my $line (split /\r?\n/, $head)
	{
		my ($name, $value) = $line =~ /^([^:\s]+):\s*(.*?)\s*$/ or next;
		push @{ $h{ lc $name } }, $value;
	}
	my $cte = lc(($h{'content-transfer-encoding'} // [''])->[0]);
	$body = decode_qp($body) if $cte eq 'quoted-printable';
	$body = decode_base64($body) if $cte eq 'base64';
	my $header = sub { join ', ', map { Encode::decode('MIME-Header', $_) } @{ $h{ lc $_[0] } // [] } };
	return { headers => \%h, header => $header, body => $body };
}

# emails_to(subject): the messages the SMTP sink got with that subject.
sub emails_with_subject
{
	my ($subject, $n) = @_;
	my @got = Sinks::wait_for_records($smtp, $n // 0,
		sub { email($_[0])->{header}->('Subject') eq $subject });
	return @got;
}

my $rfc5322_date = qr/^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d(?::\d\d)? (?:[+-]\d{4}|GMT|UT)$/;

#
# 1. Success, failure after retries, timeout: one message each, on each channel.
#
create('nightly-ok', qq{{"execution": {"command": "DO \$\$BEGIN RAISE NOTICE 'marker-ok-log'; END\$\$"},
	"notifications": {"email": {"recipients": ["ops\@example.com", "dev\@example.com"], "onFailure": true, "onSuccess": true},
	                  "slack": {"webhookUrl": "@{[url($http, 'ok')]}", "onFailure": true, "onSuccess": true},
	                  "includeLogs": true}}});
create('breaks', qq{{"execution": {"command": "DO \$\$BEGIN RAISE NOTICE 'marker-fail-log'; RAISE EXCEPTION 'disk on fire'; END\$\$",
	                  "retry": {"maxAttempts": 2, "initialDelaySeconds": 0, "jitter": false}},
	"notifications": {"email": {"recipients": ["oncall\@example.com"]},
	                  "slack": {"webhookUrl": "@{[url($http, 'fail')]}"},
	                  "includeLogs": false}}});
create('too-slow', qq{{"execution": {"command": "DO \$\$BEGIN RAISE NOTICE 'marker-slow-log'; PERFORM pg_sleep(10); END\$\$",
	                  "timeoutSeconds": 1, "retry": {"maxAttempts": 1}},
	"notifications": {"email": {"recipients": ["oncall\@example.com"]},
	                  "slack": {"webhookUrl": "@{[url($http, 'slow')]}"},
	                  "includeLogs": true}}});
# Flags: success with onSuccess false everywhere sends nothing; a success
# with onSuccess only on Slack sends only to Slack.
create('quiet-ok', qq{{"execution": {"command": "SELECT 1"},
	"notifications": {"email": {"recipients": ["ops\@example.com"]},
	                  "slack": {"webhookUrl": "@{[url($http, 'quiet')]}"}}}});
create('mixed', qq{{"execution": {"command": "SELECT 1"},
	"notifications": {"email": {"recipients": ["ops\@example.com"], "onSuccess": false},
	                  "slack": {"webhookUrl": "@{[url($http, 'mixed')]}", "onSuccess": true}}}});

my $ok_id = JobconfigTest::run_and_wait($node, 'nightly-ok');
is(JobconfigTest::status_of($node, $ok_id), 'succeeded', 'nightly-ok succeeded');
$node->safe_psql('postgres', q{SELECT jobconfig.run_job('breaks')});
JobconfigTest::wait_until($node, q{SELECT count(*) = 2 AND bool_and(status = 'failed')
	FROM jobconfig.job_executions WHERE job_id = 'breaks'});
my ($fail1, $fail2) = split /\n/, $node->safe_psql('postgres',
	q{SELECT id FROM jobconfig.job_executions WHERE job_id = 'breaks' ORDER BY attempt});
my $slow_id = JobconfigTest::run_and_wait($node, 'too-slow');
is(JobconfigTest::status_of($node, $slow_id), 'timed_out', 'too-slow timed out');
my $quiet_id = JobconfigTest::run_and_wait($node, 'quiet-ok');
my $mixed_id = JobconfigTest::run_and_wait($node, 'mixed');

# The outbox: one row per matching channel, for final runs only.
settled('nightly-ok', 2);
is($node->safe_psql('postgres', qq{SELECT string_agg(channel || ':' || status || ':' || attempts, ',' ORDER BY channel)
	FROM jobconfig.notification_outbox WHERE execution_id = $ok_id}),
	'email:delivered:1,slack:delivered:1', 'a success with onSuccess: an email and a Slack row, each delivered at the first attempt');
settled('breaks', 2);
is($node->safe_psql('postgres', qq{SELECT string_agg(channel || ':' || execution_id, ',' ORDER BY channel)
	FROM jobconfig.notification_outbox WHERE job_id = 'breaks'}),
	"email:$fail2,slack:$fail2", 'a failure after retries: one row per channel, for the last attempt only');
is($node->safe_psql('postgres', qq{SELECT array_to_string(recipients, ',') || '|' || subject FROM jobconfig.notification_outbox
	WHERE job_id = 'breaks' AND channel = 'email'}),
	'oncall@example.com|[jobconfig] breaks failed', 'the email row has its recipients and subject');
settled('too-slow', 2);
is($node->safe_psql('postgres', qq{SELECT string_agg(channel || ':' || status, ',' ORDER BY channel)
	FROM jobconfig.notification_outbox WHERE execution_id = $slow_id}),
	'email:delivered,slack:delivered', 'a timeout: an email and a Slack row, delivered');
settled('mixed', 1);
is($node->safe_psql('postgres', qq{SELECT string_agg(channel, ',') FROM jobconfig.notification_outbox WHERE execution_id = $mixed_id}),
	'slack', 'onSuccess on Slack only: only a Slack row');
is($node->safe_psql('postgres', q{SELECT count(*) FROM jobconfig.notification_outbox WHERE job_id = 'quiet-ok'}),
	'0', 'a success with onSuccess false (the default): no row');
is($node->safe_psql('postgres', qq{SELECT delivered_at IS NOT NULL AND jsonb_array_length(delivery_log) = 1
	AND delivery_log -> 0 ? 'at' AND last_error IS NULL FROM jobconfig.notification_outbox WHERE execution_id = $ok_id AND channel = 'slack'}),
	't', 'a delivered row has delivered_at and one entry in delivery_log');

# Slack: exactly one POST per notification, JSON {"text": ...}.
my @ok_slack = slack_requests($http, 'ok', 1);
is(scalar(@ok_slack), 1, 'success: the Slack sink got one request');
my $req = $ok_slack[0] // { headers => {}, body => '' };
is($req->{method}, 'POST', 'it is a POST');
like($req->{headers}{'content-type'} // '', qr{^application/json\b}, 'of application/json');
my $msg = slack_json($req);
is_deeply([ sort keys %$msg ], ['text'], 'whose body is a JSON object {"text": ...}');
my $text = $msg->{text} // '';
like($text, qr/nightly-ok/, 'the text names the job');
like($text, qr/succeeded/i, 'and its status');
like($text, qr/attempt\W*1\b/i, 'and its attempt');
like($text, qr/duration|took|\b\d+(?:\.\d+)?\s*(?:ms|s|sec|seconds?)\b/i, 'and its duration');
like($text, qr/marker-ok-log/, 'and, with includeLogs, the log excerpt');

my @fail_slack = slack_requests($http, 'fail', 1);
is(scalar(@fail_slack), 1, 'failure after 2 attempts: one Slack request, not one per attempt');
$text = slack_json($fail_slack[0] // { body => '' })->{text} // '';
like($text, qr/breaks/, 'it names the job');
like($text, qr/failed/i, 'says it failed');
like($text, qr/attempt\W*2\b/i, 'at attempt 2');
like($text, qr/disk on fire/, 'with the error message');
unlike($text, qr/marker-fail-log/, 'and without the log, as includeLogs is false');
my $fail2_end = $node->safe_psql('postgres', "SELECT extract(epoch FROM finished_at) FROM jobconfig.job_executions WHERE id = $fail2");
cmp_ok(($fail_slack[0] // { at => 0 })->{at}, '>=', $fail2_end, 'it was sent after the last attempt ended');

my @slow_slack = slack_requests($http, 'slow', 1);
is(scalar(@slow_slack), 1, 'timeout: one Slack request');
$text = slack_json($slow_slack[0] // { body => '' })->{text} // '';
like($text, qr/too-slow/, 'it names the job');
like($text, qr/timed[ _]out/i, 'says it timed out');
like($text, qr/marker-slow-log/, 'with the log excerpt');

my @mixed_slack = slack_requests($http, 'mixed', 1);
is(scalar(@mixed_slack), 1, 'onSuccess on Slack only: Slack got it');

# Email: one message per notification, RFC 5322, to the recipients.
my @ok_mail = emails_with_subject('[jobconfig] nightly-ok succeeded', 1);
is(scalar(@ok_mail), 1, 'success: one email, Subject "[jobconfig] nightly-ok succeeded"');
my $mail = $ok_mail[0] // { rcpt_to => [], mail_from => '', data => "\r\n" };
is($mail->{mail_from}, '<jobconfig@example.test>', 'envelope sender is jobconfig.smtp_from');
is_deeply([ sort @{ $mail->{rcpt_to} } ], [ '<dev@example.com>', '<ops@example.com>' ], 'envelope recipients are the job\'s');
my $m = email($mail);
like($m->{header}->('From'), qr/jobconfig\@example\.test/, 'From: is jobconfig.smtp_from');
like($m->{header}->('To'), qr/ops\@example\.com/, 'To: names the first recipient');
like($m->{header}->('To'), qr/dev\@example\.com/, 'and the second');
like($m->{header}->('Date'), $rfc5322_date, 'Date: is an RFC 5322 date');
like($m->{header}->('Message-ID'), qr/^<[^<>\s@]+@[^<>\s]+>$/, 'Message-ID: is <local@domain>');
like($m->{body}, qr/nightly-ok/, 'the body names the job');
like($m->{body}, qr/succeeded/i, 'its status');
like($m->{body}, qr/attempt\W*1\b/i, 'its attempt');
like($m->{body}, qr/marker-ok-log/, 'and has the log excerpt');

my @fail_mail = emails_with_subject('[jobconfig] breaks failed', 1);
is(scalar(@fail_mail), 1, 'failure after 2 attempts: one email, Subject "[jobconfig] breaks failed"');
$mail = $fail_mail[0] // { rcpt_to => [], data => "\r\n" };
is_deeply($mail->{rcpt_to}, ['<oncall@example.com>'], 'to oncall@example.com');
$m = email($mail);
like($m->{body}, qr/disk on fire/, 'the body has the error message');
like($m->{body}, qr/attempt\W*2\b/i, 'and the attempt');
unlike($m->{body}, qr/marker-fail-log/, 'and no log, as includeLogs is false');

my @slow_mail = emails_with_subject('[jobconfig] too-slow timed out', 1);
is(scalar(@slow_mail), 1, 'timeout: one email, Subject "[jobconfig] too-slow timed out"');
like(email($slow_mail[0] // { data => "\r\n" })->{body}, qr/marker-slow-log/, 'with the log excerpt');

my %ids = map { (email($_)->{header}->('Message-ID') => 1) } Sinks::records($smtp);
is(scalar(keys %ids), scalar(Sinks::records($smtp)), 'every email has its own Message-ID');

drain();

#
# 2. 500, 500, 200: delivered once, at the third attempt, after 1 s and 3 s.
#    429 is retried too; another 4xx is not.
#
create('flaky-endpoint', qq{{"execution": {"command": "SELECT 1/0", "retry": {"maxAttempts": 1}},
	"notifications": {"slack": {"webhookUrl": "@{[url($http, 'flaky')]}"}}}});
create('rate-limited', qq{{"execution": {"command": "SELECT 1/0", "retry": {"maxAttempts": 1}},
	"notifications": {"slack": {"webhookUrl": "@{[url($http, 'ratelimited')]}"}}}});
create('gone', qq{{"execution": {"command": "SELECT 1/0", "retry": {"maxAttempts": 1}},
	"notifications": {"slack": {"webhookUrl": "@{[url($http, 'gone')]}"}}}});
create('broken-endpoint', qq{{"execution": {"command": "SELECT 1/0", "retry": {"maxAttempts": 1}},
	"notifications": {"slack": {"webhookUrl": "@{[url($http, 'broken')]}"}}}});
JobconfigTest::run_and_wait($node, $_) foreach qw(flaky-endpoint rate-limited gone broken-endpoint);

settled('flaky-endpoint', 1);
is($node->safe_psql('postgres', q{SELECT status || ':' || attempts || ':' || jsonb_array_length(delivery_log) || ':' || (delivered_at IS NOT NULL)
	FROM jobconfig.notification_outbox WHERE job_id = 'flaky-endpoint'}),
	'delivered:3:3:true', '500, 500, 200: delivered, 3 attempts, each in delivery_log');
like($node->safe_psql('postgres', q{SELECT delivery_log -> 0 ->> 'error' FROM jobconfig.notification_outbox WHERE job_id = 'flaky-endpoint'}),
	qr/500/, 'the first attempt\'s error names the HTTP status');
my @flaky = slack_requests($http, 'flaky', 3);
is(join(',', map { $_->{status} } @flaky), '500,500,200', 'the sink answered 500, 500, 200: the message arrived once');
is(scalar(keys %{ { map { ($_->{body} => 1) } @flaky } }), 1, 'the same message each time');
if (@flaky == 3)
{
	my ($gap1, $gap2) = ($flaky[1]{at} - $flaky[0]{at}, $flaky[2]{at} - $flaky[1]{at});
	ok($gap1 >= 0.9 && $gap1 < 5, 'the second attempt came notify_retry_delay (1 s) after the first')
	  or diag "gap $gap1 s";
	ok($gap2 >= 2.9 && $gap2 < 15, 'the third came 3 s after the second (x3 backoff)')
	  or diag "gap $gap2 s";
}
else
{
	fail('the backoff can be measured') foreach 1 .. 2;
}

settled('rate-limited', 1);
is($node->safe_psql('postgres', q{SELECT status || ':' || attempts FROM jobconfig.notification_outbox WHERE job_id = 'rate-limited'}),
	'delivered:2', '429 is retried: delivered at the second attempt');
is(join(',', map { $_->{status} } slack_requests($http, 'ratelimited', 2)), '429,200', 'the sink answered 429, then 200');

settled('gone', 1);
my $gone = $node->safe_psql('postgres', q{SELECT status || ':' || attempts || ':' || coalesce(last_error, '')
	FROM jobconfig.notification_outbox WHERE job_id = 'gone'});
like($gone, qr/^failed:1:.*404/, '404 fails at once: failed, 1 attempt, last_error names the status');

settled('broken-endpoint', 1);
like($node->safe_psql('postgres', q{SELECT status || ':' || attempts || ':' || coalesce(last_error, '')
	FROM jobconfig.notification_outbox WHERE job_id = 'broken-endpoint'}),
	qr/^failed:4:.*503/, '503 every time: failed after notify_max_attempts (4), last_error names the status');
my @broken = slack_requests($http, 'broken', 4);
is(scalar(@broken), 4, 'the sink got exactly 4 attempts');
if (@broken == 4)
{
	my $gap3 = $broken[3]{at} - $broken[2]{at};
	ok($gap3 >= 8.9 && $gap3 < 40, 'the fourth came 9 s after the third (1 x 3^2)') or diag "gap $gap3 s";
}
else
{
	fail('the backoff can be measured');
}

drain();

#
# 3. A stopped sink: the row stays pending with attempts growing and the
#    next attempt in the future; when the sink is back, it is delivered.
#
create('sink-down', qq{{"execution": {"command": "SELECT 1/0", "retry": {"maxAttempts": 1}},
	"notifications": {"slack": {"webhookUrl": "@{[url($down, 'down')]}"}}}});
JobconfigTest::run_and_wait($node, 'sink-down');
ok(JobconfigTest::wait_until($node, q{SELECT attempts >= 2 FROM jobconfig.notification_outbox WHERE job_id = 'sink-down'}),
	'with the sink stopped, the notifier tries again');
my $pending = $node->safe_psql('postgres', q{SELECT status || ':' || (next_attempt_at > now()) || ':'
	|| (jsonb_array_length(delivery_log) = attempts) || ':' || (last_error IS NOT NULL)
	FROM jobconfig.notification_outbox WHERE job_id = 'sink-down'});
is($pending, 'pending:true:true:true', 'the row stays pending, its next attempt in the future, each attempt logged with an error');
is(query(q{SELECT count(*) FROM jobconfig.notification_deliveries d
	WHERE to_jsonb(d) ->> 'job_id' = 'sink-down'}),
	'1', 'notification_deliveries lists it');
Sinks::restart($down);
settled('sink-down', 1);
is($node->safe_psql('postgres', q{SELECT status FROM jobconfig.notification_outbox WHERE job_id = 'sink-down'}),
	'delivered', 'once the sink is back on its port, the row is delivered');
is(scalar(slack_requests($down, 'down', 1)), 1, 'and the sink got the message once');
my $down_gap = $node->safe_psql('postgres', q{SELECT extract(epoch FROM (delivery_log -> 1 ->> 'at')::timestamptz - (delivery_log -> 0 ->> 'at')::timestamptz)
	FROM jobconfig.notification_outbox WHERE job_id = 'sink-down'});
ok($down_gap ne '' && $down_gap >= 0.9 && $down_gap < 5, 'a connection refused is retried after notify_retry_delay (1 s) too')
  or diag "gap $down_gap s";

drain();

#
# 4. Nothing for runs that are not final or whose record rolled back.
#
create('cancelled-retry', qq{{"execution": {"command": "SELECT 1/0",
	                  "retry": {"maxAttempts": 3, "initialDelaySeconds": 600, "jitter": false}},
	"notifications": {"email": {"recipients": ["ops\@example.com"], "onSuccess": true},
	                  "slack": {"webhookUrl": "@{[url($http, 'cancelled')]}", "onSuccess": true}}}});
my $c1 = JobconfigTest::run_and_wait($node, 'cancelled-retry');
my $c2 = $node->safe_psql('postgres', q{SELECT id FROM jobconfig.job_executions WHERE job_id = 'cancelled-retry' AND status = 'queued'});
$node->safe_psql('postgres', "SELECT jobconfig.cancel_execution($c2)");
is(JobconfigTest::status_of($node, $c2), 'cancelled', 'the queued retry is cancelled');

create('cancelled-running', qq{{"execution": {"command": "SELECT pg_sleep(60)", "retry": {"maxAttempts": 1}},
	"notifications": {"email": {"recipients": ["ops\@example.com"], "onSuccess": true},
	                  "slack": {"webhookUrl": "@{[url($http, 'cancelled')]}", "onSuccess": true}}}});
my $c3 = $node->safe_psql('postgres', q{SELECT jobconfig.run_job('cancelled-running')});
JobconfigTest::wait_until($node, "SELECT status = 'running' FROM jobconfig.job_executions WHERE id = $c3");
$node->safe_psql('postgres', "SELECT jobconfig.cancel_execution($c3)");
JobconfigTest::wait_until($node, "SELECT status = 'cancelled' FROM jobconfig.job_executions WHERE id = $c3");

# A command whose deferred constraint fails at commit: its record must not
# say (nor notify) "succeeded".
create('deferred', qq{{"execution": {"command": "INSERT INTO public.child VALUES (42)", "retry": {"maxAttempts": 1}},
	"notifications": {"slack": {"webhookUrl": "@{[url($http, 'deferred')]}", "onSuccess": true, "onFailure": true}}}});
my $d = JobconfigTest::run_and_wait($node, 'deferred');
is(JobconfigTest::status_of($node, $d), 'failed', 'a run failing its deferred constraint at commit is failed');
settled('deferred', 1);
my @deferred = slack_requests($http, 'deferred', 1);
is(scalar(@deferred), 1, 'and notified once');
$text = slack_json($deferred[0] // { body => '' })->{text} // '';
like($text, qr/failed/i, 'as failed');
unlike($text, qr/succeeded/i, 'never as succeeded');

# An externally recorded final run in a transaction that rolls back.
$node->safe_psql('postgres', q{BEGIN;
	SELECT jobconfig.record_job_execution(job_id => 'cancelled-retry', status => 'failed', error => 'rolled back');
	ROLLBACK;});

drain();

#
# 5. Outbound hosts: 127.0.0.2 is loopback and not in notify_allowed_hosts.
#
my $probe = HTTP::Tiny->new(timeout => 10)->post("http://127.0.0.2:$private->{port}/probe", { content => 'x' });
is($probe->{status}, 200, '(the 127.0.0.2 sink is reachable from this machine)');
create('private-host', qq{{"execution": {"command": "SELECT 1/0", "retry": {"maxAttempts": 1}},
	"notifications": {"slack": {"webhookUrl": "@{[url($private, 'private')]}"}}}});
JobconfigTest::run_and_wait($node, 'private-host');
settled('private-host', 1);
like($node->safe_psql('postgres', q{SELECT status || ':' || coalesce(last_error, '') FROM jobconfig.notification_outbox WHERE job_id = 'private-host'}),
	qr/^failed:.*(?:not allowed|notify_allowed_hosts)/i, 'a loopback address not in notify_allowed_hosts: failed, "not allowed"');

# Loopback in disguise, when only "127.0.0.1" is allowed: 0.0.0.0 reaches
# the sink on 127.0.0.1, 2130706434 (one number) is 127.0.0.2.
my %disguise = ('zero' => [ '0.0.0.0', $http ], 'decimal' => [ '2130706434', $private ]);
foreach my $name (sort keys %disguise)
{
	my ($host, $sink) = @{ $disguise{$name} };
	create("disguised-$name", qq{{"execution": {"command": "SELECT 1/0", "retry": {"maxAttempts": 1}},
		"notifications": {"slack": {"webhookUrl": "https://$host:$sink->{port}/hook/T0/B0/disguised-$name-secret"}}}});
	JobconfigTest::run_and_wait($node, "disguised-$name");
	settled("disguised-$name", 1);
	is($node->safe_psql('postgres', qq{SELECT status FROM jobconfig.notification_outbox WHERE job_id = 'disguised-$name'}),
		'failed', "a URL whose host is $host (loopback in disguise) is refused");
}

drain();

#
# 6. NOTIFY: every state change, in order.
#
create('listen-me', q{{"execution": {"command": "SELECT 1", "retry": {"maxAttempts": 1}}}});
my $rolled = $node->safe_psql('postgres', q{BEGIN; SELECT jobconfig.run_job('listen-me'); ROLLBACK;});
my $l1 = JobconfigTest::run_and_wait($node, 'listen-me');
for (my $i = 0; $i < 10 * $PostgreSQL::Test::Utils::timeout_default; $i++)
{
	drain();
	last if events_of($l1) =~ /succeeded/;
	Time::HiRes::sleep(0.1);
}
is(events_of($l1), 'queued/1/manual,running/1/manual,succeeded/1/manual',
	'a manual run sends queued, running, succeeded on jobconfig_events, in order');
my ($l1_event) = grep { ($_->{executionId} // '') eq $l1 } @events;
is(($l1_event // {})->{jobId}, 'listen-me', 'with its jobId');
is(events_of($fail1), 'queued/1/manual,running/1/manual,failed/1/manual', 'a failed attempt: queued, running, failed');
is(events_of($fail2), 'queued/2/retry,running/2/retry,failed/2/retry', 'its retry: attempt 2, triggerSource retry');
is(events_of($slow_id), 'queued/1/manual,running/1/manual,timed_out/1/manual', 'a timeout: queued, running, timed_out');
like(events_of($c2), qr/^queued\/2\/retry.*cancelled\/2\/retry$/, 'a cancelled retry: queued ... cancelled');
is(events_of($rolled), '', 'a rolled-back run_job sends nothing');
is(scalar(grep { $_->{unparsable} } @events), 0, 'every payload is JSON');

#
# 7. Readers see the outbox, never a Slack URL; anon sees nothing.
#
cmp_ok(query('SELECT count(*) FROM jobconfig.notification_outbox', 'authenticated'), '>', 0,
	'readers (authenticated) see outbox rows');
is(query(q{SELECT array_to_string(recipients, ',') FROM jobconfig.notification_outbox WHERE job_id = 'nightly-ok' AND channel = 'email'}, 'authenticated'),
	'ops@example.com,dev@example.com', 'including the email recipients');
is(query(q{SELECT count(*) FROM jobconfig.notification_outbox o WHERE o::text LIKE '%-secret%' OR o::text LIKE '%/hook/%'}),
	'0', 'no outbox row holds a Slack URL, not even in its errors');
is(query(q{SELECT count(*) FROM jobconfig.notification_deliveries d WHERE d::text LIKE '%-secret%'}, 'authenticated'),
	'0', 'nor does notification_deliveries, as readers see it');
is(query(q{SELECT count(*) FROM jobconfig.job_configs j WHERE j.payload::text LIKE '%-secret%'}, 'authenticated'),
	'0', 'nor the jobs as readers see them');
is(query('SELECT count(*) FROM jobconfig.notification_outbox', 'anon'), '0', 'anon sees no outbox row');

# notification_deliveries lists exactly the pending and failed rows.
is(query(q{SELECT string_agg(x, ',' ORDER BY x) FROM (SELECT coalesce(to_jsonb(d) ->> 'id', to_jsonb(d) ->> 'outbox_id') AS x
	FROM jobconfig.notification_deliveries d) s}),
	query(q{SELECT string_agg(id::text, ',' ORDER BY id::text) FROM jobconfig.notification_outbox WHERE status <> 'delivered'}),
	'notification_deliveries lists the pending and failed deliveries, and only those');

#
# 8. A node whose notify_allowed_hosts is empty contacts no loopback host.
#
my $strict = JobconfigTest::start_node('notify_strict', max_workers => 1, conf => qq{
jobconfig.notify_allowed_hosts = ''
jobconfig.notify_insecure_http = on
jobconfig.notify_retry_delay = 1
jobconfig.notify_max_attempts = 2
});
$strict->safe_psql('postgres', qq{SELECT jobconfig.create_job('strict', \$jc\${"execution": {"command": "SELECT 1/0", "retry": {"maxAttempts": 1}},
	"notifications": {"slack": {"webhookUrl": "@{[url($http, 'strict')]}"}}}\$jc\$)});
JobconfigTest::run_and_wait($strict, 'strict');
JobconfigTest::wait_until($strict, q{SELECT count(*) = 1 AND bool_and(status <> 'pending') FROM jobconfig.notification_outbox});
like($strict->safe_psql('postgres', q{SELECT status || ':' || coalesce(last_error, '') FROM jobconfig.notification_outbox}),
	qr/^failed:.*not allowed/i, 'with notify_allowed_hosts empty, 127.0.0.1 is not allowed: failed');

#
# Exactly the expected messages, and nothing more later.
#
$node->safe_psql('postgres', 'SELECT pg_sleep(3)');
my %count;
$count{ $_->{target} }++ foreach Sinks::records($http);
is_deeply(\%count, {
		'/hook/T0/B0/ok-secret' => 1,
		'/hook/T0/B0/fail-secret' => 1,
		'/hook/T0/B0/slow-secret' => 1,
		'/hook/T0/B0/mixed-secret' => 1,
		'/hook/T0/B0/flaky-secret' => 3,
		'/hook/T0/B0/ratelimited-secret' => 2,
		'/hook/T0/B0/gone-secret' => 1,
		'/hook/T0/B0/broken-secret' => 4,
		'/hook/T0/B0/deferred-secret' => 1,
	}, 'the HTTP sink got exactly the expected requests (none for quiet-ok, cancelled runs, strict)')
  or diag explain \%count;
my @subjects = sort map { email($_)->{header}->('Subject') } Sinks::records($smtp);
is_deeply(\@subjects, [
		'[jobconfig] breaks failed',
		'[jobconfig] nightly-ok succeeded',
		'[jobconfig] too-slow timed out',
	], 'the SMTP sink got exactly the expected emails') or diag explain \@subjects;
is(scalar(grep { $_->{target} ne '/probe' } Sinks::records($private)), 0, 'the 127.0.0.2 sink got nothing from the notifier');
is(scalar(Sinks::records($down)), 1, 'the sink that was down got one request in all');
is($node->safe_psql('postgres', q{SELECT count(*) FROM jobconfig.notification_outbox WHERE job_id IN ('cancelled-retry', 'cancelled-running', 'quiet-ok')}),
	'0', 'no outbox row for cancelled runs, a non-final attempt, a rolled-back record, or an unflagged success');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM jobconfig.notification_outbox WHERE execution_id IN ($fail1, $c1)}),
	'0', 'no outbox row for attempts that were retried');

# For whoever reads the log after a failure.
note $node->safe_psql('postgres', q{SELECT id, job_id, channel, status, attempts, next_attempt_at, last_error, delivery_log
	FROM jobconfig.notification_outbox ORDER BY id});

$listener->quit;
ok(!$node->log_contains('terminated by signal'), 'no worker crashed');
ok(!$strict->log_contains('terminated by signal'), 'no worker crashed on the strict node');
$strict->stop;
$node->stop;
Sinks::stop($_) foreach ($http, $smtp, $down, $private);
done_testing();
