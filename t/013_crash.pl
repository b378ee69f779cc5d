# Crashes lose nothing: a killed worker or server leaves its runs marked
# failed with a reason, retried by policy; effects and "succeeded" records
# never part; each slot keeps exactly one record; a job that kills its
# worker every time stalls nothing else.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use JobconfigTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = JobconfigTest::start_node('crash', max_workers => 2);
$node->safe_psql('postgres', q{
	CREATE TABLE public.effects (execution_id bigint, at timestamptz DEFAULT clock_timestamp());
	CREATE TABLE public.ticks (at timestamptz DEFAULT clock_timestamp());
});

# kill -9 of an executor in the middle of a run: the server restarts, the
# run is marked failed as interrupted, and its retry runs.
$node->safe_psql('postgres', q{SELECT jobconfig.create_job('long', '{"execution": {"command": "SELECT pg_sleep(30)",
	"retry": {"maxAttempts": 2, "initialDelaySeconds": 0, "jitter": false}}}')});
my $id = $node->safe_psql('postgres', q{SELECT jobconfig.run_job('long')});
JobconfigTest::wait_until($node, "SELECT status = 'running' FROM jobconfig.job_executions WHERE id = $id");
my $pid = $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE query LIKE 'jobconfig job long %'});
kill 'KILL', $pid;
JobconfigTest::wait_until($node, "SELECT status = 'failed' FROM jobconfig.job_executions WHERE id = $id");
like($node->safe_psql('postgres', "SELECT error FROM jobconfig.job_executions WHERE id = $id"),
	qr/^interrupted: /, 'a run whose worker was killed is failed as interrupted');
JobconfigTest::wait_until($node, "SELECT status = 'running' FROM jobconfig.job_executions WHERE cause_id = $id");
pass('and its retry runs');
$node->safe_psql('postgres', "SELECT jobconfig.cancel_execution(id) FROM jobconfig.job_executions WHERE cause_id = $id");

# A job that kills its own worker every time fails its attempts and stops,
# while another job keeps running all along.
$node->safe_psql('postgres', q{
	SELECT jobconfig.create_job('steady', '{"trigger": {"type": "schedule", "schedule": {"cron": "1 seconds"}},
		"execution": {"command": "INSERT INTO public.ticks DEFAULT VALUES", "concurrency": "allow"}}');
	SELECT jobconfig.create_job('suicidal', '{"execution": {"command": "SELECT pg_terminate_backend(pg_backend_pid())",
		"retry": {"maxAttempts": 3, "initialDelaySeconds": 1, "jitter": false}}}');
});
my $poison = $node->safe_psql('postgres', q{SELECT jobconfig.run_job('suicidal')});
JobconfigTest::wait_until($node, q{SELECT count(*) = 3 AND bool_and(status = 'failed')
	FROM jobconfig.job_executions WHERE job_id = 'suicidal'});
like($node->safe_psql('postgres', q{SELECT min(error) FROM jobconfig.job_executions WHERE job_id = 'suicidal'}),
	qr/^interrupted: the worker running it \(pid \d+\) exited/, 'each attempt is failed as interrupted');
$node->safe_psql('postgres', 'SELECT pg_sleep(3)');
is($node->safe_psql('postgres', q{SELECT count(*) FROM jobconfig.job_executions WHERE job_id = 'suicidal'}),
	'3', 'after maxAttempts it stops');
my $window = $node->safe_psql('postgres', qq{
	SELECT extract(epoch FROM max(finished_at) - min(queued_at))::int
	  FROM jobconfig.job_executions WHERE job_id = 'suicidal'});
my $ticks = $node->safe_psql('postgres', qq{
	SELECT count(*) FROM public.ticks
	 WHERE at BETWEEN (SELECT min(queued_at) FROM jobconfig.job_executions WHERE job_id = 'suicidal')
	              AND (SELECT max(finished_at) FROM jobconfig.job_executions WHERE job_id = 'suicidal')});
cmp_ok($ticks, '>=', $window - 2, "the steady job kept running meanwhile ($ticks runs in $window s)");

# Effects and records never part, across a crash of the whole server: many
# short runs, each recording its execution id in a table, and an immediate
# shutdown (no clean exit for anyone) in the middle.
$node->safe_psql('postgres', q{SELECT jobconfig.create_job('effect', '{"execution": {"command":
	"INSERT INTO public.effects (execution_id) VALUES (jobconfig.current_execution_id())",
	"concurrency": "allow", "retry": {"maxAttempts": 3, "initialDelaySeconds": 0, "jitter": false}}}')});
$node->safe_psql('postgres', q{SELECT count(jobconfig.run_job('effect')) FROM generate_series(1, 3000)});
JobconfigTest::wait_until($node, q{SELECT count(*) > 300 FROM jobconfig.job_executions WHERE job_id = 'effect' AND status = 'succeeded'});
$node->stop('immediate');
$node->start;
JobconfigTest::wait_for_workers($node, 2);
JobconfigTest::wait_until($node, q{SELECT count(*) = 0 FROM jobconfig.job_executions
	WHERE job_id = 'effect' AND status IN ('queued', 'running')});
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.effects f
	LEFT JOIN jobconfig.job_executions e ON e.id = f.execution_id
	WHERE e.status IS DISTINCT FROM 'succeeded'}), '0', 'every effect belongs to a succeeded run');
is($node->safe_psql('postgres', q{SELECT count(*) FROM jobconfig.job_executions e
	WHERE e.job_id = 'effect' AND e.status = 'succeeded'
	  AND (SELECT count(*) FROM public.effects f WHERE f.execution_id = e.id) <> 1}), '0',
	'every succeeded run has exactly one effect');
is($node->safe_psql('postgres', q{
	WITH RECURSIVE chain AS (
		SELECT id AS root, id, status FROM jobconfig.job_executions WHERE job_id = 'effect' AND attempt = 1
		UNION ALL
		SELECT c.root, e.id, e.status FROM chain c JOIN jobconfig.job_executions e ON e.cause_id = c.id)
	SELECT count(*) FROM (SELECT root FROM chain GROUP BY root
	                       HAVING count(*) FILTER (WHERE status = 'succeeded') <> 1) x}), '0',
	'each of the 3,000 runs succeeded exactly once, retries included');
is($node->safe_psql('postgres', q{SELECT count(*) FROM jobconfig.job_executions WHERE job_id = 'effect' AND attempt = 1}),
	'3000', 'none lost');

# One record per schedule slot across restarts and crashes.
$node->stop('immediate');
$node->start;
JobconfigTest::wait_for_workers($node, 2);
$node->safe_psql('postgres', 'SELECT pg_sleep(2)');
$node->restart;
JobconfigTest::wait_for_workers($node, 2);
$node->safe_psql('postgres', 'SELECT pg_sleep(2)');
is($node->safe_psql('postgres', q{SELECT count(*) FROM (SELECT scheduled_for FROM jobconfig.job_executions
	WHERE job_id = 'steady' GROUP BY scheduled_for HAVING count(*) > 1) d}), '0', 'no slot recorded twice');
is($node->safe_psql('postgres', q{SELECT count(*) FROM (
	SELECT scheduled_for - lag(scheduled_for) OVER (ORDER BY scheduled_for) AS gap
	  FROM jobconfig.job_executions WHERE job_id = 'steady') g WHERE gap <> interval '1 second'}), '0',
	'no slot lost: consecutive slots are 1 s apart throughout');

ok(!$node->log_contains('terminated by signal 11'), 'no worker crashed by itself');
$node->stop;
done_testing();
