# History retention: finished executions older than their job's
# "history.retentionDays", or else jobconfig.history_days (0: forever), are
# deleted by the scheduler in batches of jobconfig.retention_batch_size; it
# runs when the scheduler starts and keeps going while batches come back
# full.  Runs still queued or running are never deleted.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use JobconfigTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = JobconfigTest::start_node('retention', max_workers => 1, conf => q{
jobconfig.retention_batch_size = 100
jobconfig.history_days = 0
});

# create(job_id, payload): create a job.
sub create
{
	my ($id, $payload) = @_;
	$node->safe_psql('postgres', "SELECT jobconfig.create_job('$id', \$jc\$$payload\$jc\$)");
}

# record(job_id, n, days_ago, status): record n finished runs that ended
# days_ago days ago (a second apart).
sub record
{
	my ($id, $n, $days, $status) = @_;
	$status //= 'succeeded';
	$node->safe_psql('postgres', qq{
		SELECT jobconfig.record_job_execution('$id', '$status',
		         started_at => now() - interval '$days days' - g * interval '1 second' - interval '1 minute',
		         finished_at => now() - interval '$days days' - g * interval '1 second')
		  FROM generate_series(1, $n) g});
}

# count(job_id, condition): executions of a job matching a condition.
sub count
{
	my ($id, $cond) = @_;
	$cond //= 'true';
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM jobconfig.job_executions WHERE job_id = '$id' AND ($cond)");
}

my $old = "finished_at < now() - interval '35 days'";
my $days20 = "finished_at BETWEEN now() - interval '25 days' AND now() - interval '15 days'";
my $recent = "finished_at > now() - interval '1 day'";

create('plain', '{"execution": {"command": "SELECT 1", "retry": {"maxAttempts": 1}}}');
create('keep60', '{"execution": {"command": "SELECT 1"}, "history": {"retentionDays": 60}}');
create('keep10', '{"execution": {"command": "SELECT 1"}, "history": {"retentionDays": 10}}');
create('gone', '{"execution": {"command": "SELECT 1"}}');

record('plain', 2500, 40);
record('plain', 30, 40, 'skipped');
record('plain', 20, 40, 'failed');
record('plain', 20, 20);
record('plain', 10, 0);
record('keep60', 50, 40);
record('keep60', 5, 70);
record('keep10', 20, 40);
record('keep10', 15, 20);
record('keep10', 10, 0);
record('gone', 30, 40);
$node->safe_psql('postgres', q{SELECT jobconfig.delete_job('gone')});

# A retry queued long ago that waits out a long delay, and a run that was
# running when the server stopped: neither has finished.
my $queued = $node->safe_psql('postgres', q{
	INSERT INTO jobconfig.job_executions (job_config_id, job_id, trigger_source, attempt, status, queued_at, scheduled_for)
	SELECT id, job_id, 'retry', 2, 'queued', now() - interval '40 days', now() + interval '1 day'
	  FROM jobconfig.job_configs WHERE job_id = 'plain'
	RETURNING id});
my $running = $node->safe_psql('postgres', q{
	INSERT INTO jobconfig.job_executions (job_config_id, job_id, trigger_source, status, queued_at, scheduled_for, started_at, worker_pid)
	SELECT id, job_id, 'manual', 'running', now() - interval '40 days', now() - interval '40 days', now() - interval '40 days', 999999
	  FROM jobconfig.job_configs WHERE job_id = 'plain'
	RETURNING id});

# A recent run caused by an old one: the cause may go, the recent run stays.
my $cause = $node->safe_psql('postgres', q{SELECT max(id) FROM jobconfig.job_executions WHERE job_id = 'plain' AND status = 'failed'});
my $effect = $node->safe_psql('postgres', q{SELECT max(id) FROM jobconfig.job_executions WHERE job_id = 'plain' AND finished_at > now() - interval '1 day'});
# (History made by hand: a final row's links are otherwise only cleared.)
$node->safe_psql('postgres', qq{
	BEGIN;
	ALTER TABLE jobconfig.job_executions DISABLE TRIGGER job_executions_transition;
	UPDATE jobconfig.job_executions SET cause_id = $cause WHERE id = $effect;
	ALTER TABLE jobconfig.job_executions ENABLE ALWAYS TRIGGER job_executions_transition;
	COMMIT;
});

my $total = $node->safe_psql('postgres', 'SELECT count(*) FROM jobconfig.job_executions');
is($total, 2500 + 30 + 20 + 20 + 10 + 50 + 5 + 20 + 15 + 10 + 30 + 2, 'the history to prune is in place');

# --- history_days = 0: the server keeps everything, but a job's own
# retentionDays still applies.  Retention runs when the scheduler starts.
$node->restart;
JobconfigTest::wait_for_workers($node, 1);
ok(JobconfigTest::wait_until($node,
	q{SELECT count(*) = 0 FROM jobconfig.job_executions WHERE job_id = 'keep10' AND finished_at < now() - interval '10 days'}),
	'history_days = 0: a job with retentionDays 10 loses its runs older than 10 days at scheduler start');
is(count('keep10', $recent), '10', 'its recent runs stay');
is(count('keep60', "finished_at < now() - interval '65 days'"), '0', 'a job with retentionDays 60 loses its runs older than 60 days');
is(count('keep60', $old), '50', 'and keeps those of 40 days');
is(count('plain', $old), '2550', 'history_days = 0: runs of a job without retentionDays are kept however old');
is(count('gone'), '30', 'history_days = 0: the history of a deleted job is kept');
is($node->safe_psql('postgres', 'SELECT count(*) FROM jobconfig.job_executions'),
	$total - 20 - 15 - 5, 'nothing else was deleted');
like($node->safe_psql('postgres', "SELECT status || ': ' || error FROM jobconfig.job_executions WHERE id = $running"),
	qr/^failed: interrupted:/, 'the run that was running when the server stopped was marked failed (interrupted)');

# --- history_days = 30, with 2,580 old runs and batches of 100: everything
# old goes, in one go at scheduler start (25 full batches in a row, not one
# batch every 10 minutes).
$node->safe_psql('postgres', q{ALTER SYSTEM SET jobconfig.history_days = 30});
$node->restart;
JobconfigTest::wait_for_workers($node, 1);
ok(JobconfigTest::wait_until($node,
	q{SELECT count(*) = 0 FROM jobconfig.job_executions WHERE job_id = 'plain' AND finished_at < now() - interval '30 days'}),
	'history_days = 30: the 2,550 old runs of a job without retentionDays are all deleted, batch after batch');
is(count('plain', $days20), '20', 'runs of 20 days stay');
is(count('plain', "$recent AND id <> $running"), '10', 'recent runs stay');
is(count('gone'), '0', 'the old history of a deleted job goes too');
is(count('keep60', $old), '50', 'a job with retentionDays 60 keeps its runs of 40 days');
is(count('keep10', $recent), '10', 'a job with retentionDays 10 keeps its recent runs');
is($node->safe_psql('postgres', "SELECT status FROM jobconfig.job_executions WHERE id = $queued"),
	'queued', 'a retry queued 40 days ago that has not run yet stays');
is($node->safe_psql('postgres', "SELECT count(*) FROM jobconfig.job_executions WHERE id = $running"),
	'1', 'the interrupted run stays: it ended recently, whenever it started');
is($node->safe_psql('postgres', "SELECT count(*) || ' ' || coalesce(cause_id::text, 'null') FROM jobconfig.job_executions WHERE id = $effect GROUP BY cause_id"),
	'1 null', 'a recent run whose old cause was deleted stays, its cause now unknown');
is($node->safe_psql('postgres', 'SELECT count(*) FROM jobconfig.job_executions'),
	20 + 10 + 50 + 10 + 2, 'exactly the old finished runs were deleted');
is($node->safe_psql('postgres', q{SELECT count(*) FROM jobconfig.job_executions WHERE finished_at < now() - interval '30 days' AND job_id <> 'keep60'}),
	'0', 'no finished run older than its retention is left');

# The scheduler is still alive and well: a run after the pruning works.
my $id = JobconfigTest::run_and_wait($node, 'plain');
is(JobconfigTest::status_of($node, $id), 'succeeded', 'jobs still run after retention');
ok(!$node->log_contains(qr/ERROR:.*job_executions|terminated by signal/), 'retention raised no error');

$node->stop;
done_testing();
