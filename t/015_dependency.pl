# The dependency trigger: a job runs when the runs of the jobs it depends on
# end for good (succeeded, or failed or timed out with no retry left), as its
# "on" and "mode" say; the downstream run knows which upstream run caused it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use JobconfigTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = JobconfigTest::start_node('dependency', max_workers => 2);
$node->safe_psql('postgres', q{
	CREATE TABLE public.trail (seq bigserial PRIMARY KEY, job text NOT NULL,
	                           input jsonb, at timestamptz NOT NULL DEFAULT clock_timestamp());
});

# create(job_id, payload): create a job.
sub create
{
	my ($id, $payload) = @_;
	$node->safe_psql('postgres', "SELECT jobconfig.create_job('$id', \$jc\$$payload\$jc\$)");
}

# A job that notes its run (and the input it was given) in public.trail.
sub noting
{
	my ($id) = @_;
	return qq{"execution": {"command": "INSERT INTO public.trail (job, input) VALUES ('$id', jobconfig.current_input())", "concurrency": "allow"}};
}

# depends(job_id, [upstream...], on, mode, extra): a dependency job that notes its run.
sub depends
{
	my ($id, $upstream, $on, $mode, $extra) = @_;
	my $ids = join(', ', map { qq{"$_"} } @$upstream);
	create($id, '{' . qq{"trigger": {"type": "dependency", "dependency": {"jobIds": [$ids], "on": "$on", "mode": "$mode"}}, }
		  . noting($id) . ($extra // '') . '}');
}

# settle(): wait until no run is queued or running (a downstream run is
# queued in the transaction that records its upstream run's end, so once
# everything has settled every run that will be triggered has run).
sub settle
{
	JobconfigTest::wait_until($node,
		q{SELECT count(*) = 0 FROM jobconfig.job_executions WHERE status IN ('queued', 'running')})
	  or die 'runs did not settle';
}

# runs_of(job_id): how many runs the job has had.
sub runs_of
{
	my ($id) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM jobconfig.job_executions WHERE job_id = '$id'");
}

# run(job_id): run a job; return its execution id once it and every run it
# triggered have ended.
sub run
{
	my ($job) = @_;
	my $id = JobconfigTest::run_and_wait($node, $job);
	settle();
	return $id;
}

# --- mode "any": one downstream run per matching upstream run, carrying it.
create('x1', '{' . noting('x1') . '}');
create('x2', '{' . noting('x2') . '}');
depends('any-down', [ 'x1', 'x2' ], 'success', 'any');

my $x1 = run('x1');
is(runs_of('any-down'), '1', 'any: an upstream success queues one downstream run');
is($node->safe_psql('postgres', q{
	SELECT concat_ws('|', trigger_source, status, cause_id, input::text)
	  FROM jobconfig.job_executions WHERE job_id = 'any-down'}),
	qq{dependency|succeeded|$x1|{"upstream": {"jobId": "x1", "status": "succeeded", "executionId": $x1}}},
	'the downstream run says it was triggered by a dependency, names its cause and has the upstream run as input');
is($node->safe_psql('postgres', q{SELECT input::text FROM public.trail WHERE job = 'any-down'}),
	qq{{"upstream": {"jobId": "x1", "status": "succeeded", "executionId": $x1}}},
	'the downstream command sees the upstream run through jobconfig.current_input()');
cmp_ok($node->safe_psql('postgres', q{SELECT min(seq) FROM public.trail WHERE job = 'any-down'}),
	'>', $node->safe_psql('postgres', q{SELECT min(seq) FROM public.trail WHERE job = 'x1'}),
	'the downstream ran after its upstream');

my $x2 = run('x2');
is(runs_of('any-down'), '2', 'any: a run of the other upstream job queues another');
is($node->safe_psql('postgres',
	"SELECT input #>> '{upstream,jobId}' FROM jobconfig.job_executions WHERE job_id = 'any-down' AND cause_id = $x2"),
	'x2', 'that one names the other upstream job');
run('x1');
is(runs_of('any-down'), '3', 'any: every upstream run counts, not only the first');

# Many upstream runs at once: each one still gets its own downstream run
# (however the workers group their work).
$node->safe_psql('postgres', q{SELECT jobconfig.run_job('x1') FROM generate_series(1, 20)});
settle();
is(runs_of('x1'), '22', 'twenty more upstream runs');
is($node->safe_psql('postgres', q{
	SELECT count(*) || ' ' || count(DISTINCT cause_id) FROM jobconfig.job_executions
	 WHERE job_id = 'any-down' AND input #>> '{upstream,jobId}' = 'x1'}),
	'22 22', 'any: twenty upstream runs ending close together queue twenty downstream runs, one per upstream run');

# --- mode "all": only when every upstream job has a matching run that ended
# since the downstream's previous dependency run.
create('a', '{' . noting('a') . '}');
create('b', '{' . noting('b') . '}');
depends('all-down', [ 'a', 'b' ], 'success', 'all');

# new_runs(job_id): runs the job got since the last call for it.
my %seen;
sub new_runs
{
	my ($id) = @_;
	my $now = runs_of($id);
	my $new = $now - ($seen{$id} // 0);
	$seen{$id} = $now;
	return $new;
}

run('a');
is(new_runs('all-down'), 0, 'all: a run of one upstream job is not enough');
my $b1 = run('b');
is(new_runs('all-down'), 1, 'all: once both have run, the downstream is queued once');
is($node->safe_psql('postgres',
	q{SELECT cause_id || ' ' || status FROM jobconfig.job_executions WHERE job_id = 'all-down' ORDER BY id LIMIT 1}),
	"$b1 succeeded", 'its cause is the upstream run that completed the set');
run('a');
is(new_runs('all-down'), 0, 'all: another run of one upstream job does not queue it again');
run('a');
is(new_runs('all-down'), 0, 'all: nor does a third');
my $b2 = run('b');
is(new_runs('all-down'), 1, 'all: it is queued again once the other upstream job has run again');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM jobconfig.job_executions WHERE job_id = 'all-down' AND cause_id = $b2"),
	'1', 'caused by that run');
run('b');
is(new_runs('all-down'), 0, 'all: b alone, after that, is not enough either');
run('a');
is(new_runs('all-down'), 1, 'all: then a completes the set again');

# --- A chain a -> b -> c runs in order, each caused by the one before.
create('chain-1', '{' . noting('chain-1') . '}');
depends('chain-2', ['chain-1'], 'success', 'all');
depends('chain-3', ['chain-2'], 'success', 'all');
my $c1 = run('chain-1');
is($node->safe_psql('postgres', q{SELECT string_agg(job, ',' ORDER BY seq) FROM public.trail WHERE job LIKE 'chain-%'}),
	'chain-1,chain-2,chain-3', 'a chain of three jobs ran in order');
is($node->safe_psql('postgres', qq{
	SELECT c3.cause_id = c2.id AND c2.cause_id = $c1
	   AND c2.started_at >= c1.finished_at AND c3.started_at >= c2.finished_at
	  FROM jobconfig.job_executions c1, jobconfig.job_executions c2, jobconfig.job_executions c3
	 WHERE c1.id = $c1 AND c2.job_id = 'chain-2' AND c3.job_id = 'chain-3'}),
	't', 'each link started after the one before it ended, and names it as its cause');

# --- on "failure", with retries: only the last attempt counts.
create('flaky', q{{"execution": {"command": "SELECT 1 / 0",
	"retry": {"maxAttempts": 2, "initialDelaySeconds": 0, "jitter": false}}}});
depends('on-flaky-failure', ['flaky'], 'failure', 'any');
depends('on-flaky-completion', ['flaky'], 'completion', 'all');
depends('on-flaky-success', ['flaky'], 'success', 'any');
run('flaky');
is($node->safe_psql('postgres',
	q{SELECT string_agg(attempt || ':' || status, ',' ORDER BY attempt) FROM jobconfig.job_executions WHERE job_id = 'flaky'}),
	'1:failed,2:failed', 'the failing upstream job used both of its attempts');
my $last = $node->safe_psql('postgres',
	q{SELECT id FROM jobconfig.job_executions WHERE job_id = 'flaky' AND attempt = 2});
is($node->safe_psql('postgres',
	q{SELECT count(*) || ' ' || min(cause_id) || ' ' || min(input #>> '{upstream,status}') FROM jobconfig.job_executions WHERE job_id = 'on-flaky-failure'}),
	"1 $last failed", 'on failure: queued once, after the last attempt, not after the first');
is($node->safe_psql('postgres',
	q{SELECT count(*) || ' ' || min(cause_id) FROM jobconfig.job_executions WHERE job_id = 'on-flaky-completion'}),
	"1 $last", 'on completion: queued once, after the last attempt');
is(runs_of('on-flaky-success'), '0', 'on success: a failure queues nothing');

# A timeout is a failure too.
create('slow', q{{"execution": {"command": "SELECT pg_sleep(60)", "timeoutSeconds": 1, "retry": {"maxAttempts": 1}}}});
depends('on-slow-failure', ['slow'], 'failure', 'any');
my $slow = run('slow');
is(JobconfigTest::status_of($node, $slow), 'timed_out', 'the slow job timed out');
is($node->safe_psql('postgres',
	q{SELECT count(*) || ' ' || min(input #>> '{upstream,status}') FROM jobconfig.job_executions WHERE job_id = 'on-slow-failure'}),
	'1 timed_out', 'on failure: a timed-out upstream run triggers it');

# --- Success does not trigger an "on failure" job; completion takes both.
depends('on-a-failure', ['a'], 'failure', 'any');
depends('on-a-completion', ['a'], 'completion', 'any');
depends('on-a-disabled', ['a'], 'success', 'any', q{, "enabled": false});
my $a = run('a');
is(runs_of('on-a-failure'), '0', 'on failure: an upstream success queues nothing');
is($node->safe_psql('postgres',
	q{SELECT count(*) || ' ' || min(cause_id) FROM jobconfig.job_executions WHERE job_id = 'on-a-completion'}),
	"1 $a", 'on completion: an upstream success queues one run');
is(runs_of('on-a-disabled'), '0', 'a disabled downstream job gets nothing');

# Enabling it later does not replay the upstream runs it missed; the next
# upstream run triggers it.
$node->safe_psql('postgres', q{SELECT jobconfig.set_job_enabled('on-a-disabled', true)});
settle();
is(runs_of('on-a-disabled'), '0', 'enabling a downstream job queues nothing by itself');
$a = run('a');
is($node->safe_psql('postgres',
	q{SELECT count(*) || ' ' || min(cause_id) FROM jobconfig.job_executions WHERE job_id = 'on-a-disabled'}),
	"1 $a", 'once enabled, the next upstream run triggers it');

# Every downstream run above ran its command, and no worker crashed.
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM jobconfig.job_executions WHERE trigger_source = 'dependency' AND status <> 'succeeded'}),
	'0', 'every downstream run succeeded');
ok(!$node->log_contains('terminated by signal'), 'no worker crashed');

$node->stop;
done_testing();
