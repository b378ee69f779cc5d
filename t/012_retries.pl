# Retries and timeouts: a failed or timed-out run is retried at
# min(initial x multiplier^(attempt-1), max) +/- jitter, with its attempt
# number and cause, until maxAttempts; then it is final.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use JobconfigTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = JobconfigTest::start_node('retries', max_workers => 2);

# Exponential backoff, no jitter: delays 1, 2, 4, then capped at 5.
$node->safe_psql('postgres', q{SELECT jobconfig.create_job('flaky', '{"execution": {"command": "SELECT 1/0",
	"retry": {"maxAttempts": 5, "initialDelaySeconds": 1, "backoffMultiplier": 2, "maxDelaySeconds": 5, "jitter": false}}}')});
my $first = $node->safe_psql('postgres', q{SELECT jobconfig.run_job('flaky', '{"keep": "me"}')});
JobconfigTest::wait_until($node, q{SELECT count(*) = 5 AND bool_and(status = 'failed')
	FROM jobconfig.job_executions WHERE job_id = 'flaky'});
my @rows = split /\n/, $node->safe_psql('postgres', q{
	SELECT e.attempt, e.trigger_source, e.cause_id = c.id, e.input ->> 'keep',
	       round(extract(epoch FROM e.scheduled_for - c.finished_at)::numeric, 1)
	  FROM jobconfig.job_executions e
	  LEFT JOIN jobconfig.job_executions c ON c.id = e.cause_id
	 WHERE e.job_id = 'flaky' ORDER BY e.attempt});
is($rows[0], '1|manual||me|', 'attempt 1 is the manual run');
is($rows[1], '2|retry|t|me|1.0', 'attempt 2 waits 1 s after attempt 1, its cause, with the same input');
is($rows[2], '3|retry|t|me|2.0', 'attempt 3 waits 2 s');
is($rows[3], '4|retry|t|me|4.0', 'attempt 4 waits 4 s');
is($rows[4], '5|retry|t|me|5.0', 'attempt 5 waits 5 s: the maximum');
cmp_ok($node->safe_psql('postgres', q{SELECT min(extract(epoch FROM started_at - scheduled_for))
	FROM jobconfig.job_executions WHERE job_id = 'flaky' AND attempt > 1}), '>=', 0,
	'no retry starts before its time');
$node->safe_psql('postgres', 'SELECT pg_sleep(6)');
is($node->safe_psql('postgres', q{SELECT count(*) FROM jobconfig.job_executions WHERE job_id = 'flaky'}),
	'5', 'after the last attempt the run is final: no sixth');
is($node->safe_psql('postgres', q{SELECT jobconfig.job_health('flaky') -> 'reasons' ->> 0}),
	'the last run failed', 'and the job is unhealthy');

# Jitter spreads delays within +/-20%.
my $spread = $node->safe_psql('postgres', q{
	SELECT min(d) >= 8 AND max(d) <= 12 AND count(DISTINCT d) > 1
	  FROM (SELECT extract(epoch FROM jobconfig.retry_delay(
	        '{"initialDelaySeconds": 10, "backoffMultiplier": 2, "maxDelaySeconds": 100, "jitter": true}', 1)) AS d
	          FROM generate_series(1, 200)) s});
is($spread, 't', 'jitter keeps a 10 s delay between 8 and 12 s, and varies it');

# A success stops the retries.  (A sequence counts the attempts: it is not
# rolled back with a failed attempt.)
$node->safe_psql('postgres', q{
	CREATE SEQUENCE public.try_seq;
	SELECT jobconfig.create_job('second-time-lucky', '{"execution": {"command":
		"DO $$BEGIN IF nextval(''public.try_seq'') < 3 THEN RAISE EXCEPTION ''not yet''; END IF; END$$",
		"retry": {"maxAttempts": 5, "initialDelaySeconds": 0, "jitter": false}}}');});
$node->safe_psql('postgres', q{SELECT jobconfig.run_job('second-time-lucky')});
JobconfigTest::wait_until($node, q{SELECT count(*) = 1 FROM jobconfig.job_executions
	WHERE job_id = 'second-time-lucky' AND status = 'succeeded'});
$node->safe_psql('postgres', 'SELECT pg_sleep(1)');
is($node->safe_psql('postgres', q{SELECT string_agg(status || attempt, ',' ORDER BY attempt)
	FROM jobconfig.job_executions WHERE job_id = 'second-time-lucky'}),
	'failed1,failed2,succeeded3', 'retries stop at the first success');

# timeoutSeconds cancels the statement; the run is timed_out, then retried.
$node->safe_psql('postgres', q{SELECT jobconfig.create_job('too-slow', '{"execution": {"command": "SELECT pg_sleep(60)",
	"timeoutSeconds": 1, "retry": {"maxAttempts": 2, "initialDelaySeconds": 0, "jitter": false}}}')});
$node->safe_psql('postgres', q{SELECT jobconfig.run_job('too-slow')});
JobconfigTest::wait_until($node, q{SELECT count(*) = 2 AND bool_and(status = 'timed_out')
	FROM jobconfig.job_executions WHERE job_id = 'too-slow'});
is($node->safe_psql('postgres', q{SELECT string_agg(error || ' ' || (log #>> '{error,sqlstate}'), ',' ORDER BY attempt)
	FROM jobconfig.job_executions WHERE job_id = 'too-slow'}),
	'timed out after 1 s 57014,timed out after 1 s 57014', 'each attempt timed out after 1 s and was retried');
cmp_ok($node->safe_psql('postgres', q{SELECT max(extract(epoch FROM duration)) FROM jobconfig.job_executions WHERE job_id = 'too-slow'}),
	'<', 5, 'a timed-out run stops at its timeout, not at its end');

# A timeout in a top-level command (no transaction of its own to hide in).
$node->safe_psql('postgres', q{SELECT jobconfig.create_job('slow-procedure', '{"execution": {"command":
	"DO $$BEGIN PERFORM pg_sleep(60); END$$", "timeoutSeconds": 1, "retry": {"maxAttempts": 1}}}')});
my $id = JobconfigTest::run_and_wait($node, 'slow-procedure');
is(JobconfigTest::status_of($node, $id), 'timed_out', 'a top-level command times out too');

# cancel_execution on a queued retry: it is cancelled and never runs.
$node->safe_psql('postgres', q{SELECT jobconfig.create_job('later', '{"execution": {"command": "SELECT 1/0",
	"retry": {"maxAttempts": 3, "initialDelaySeconds": 600, "jitter": false}}}')});
JobconfigTest::run_and_wait($node, 'later');
my $retry = $node->safe_psql('postgres', q{SELECT id FROM jobconfig.job_executions WHERE job_id = 'later' AND status = 'queued'});
like($retry, qr/^\d+$/, 'a retry is queued 10 minutes ahead');
is($node->safe_psql('postgres', "SELECT jobconfig.cancel_execution($retry)"), 't', 'it can be cancelled');
is(JobconfigTest::status_of($node, $retry), 'cancelled', 'and is recorded cancelled');

ok(!$node->log_contains('terminated by signal'), 'no worker crashed');
$node->stop;
done_testing();
