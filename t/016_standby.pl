# A streaming standby runs nothing; when the primary crashes and the standby
# is promoted, jobconfig starts there by itself and carries on: the schedule
# keeps firing, each slot has one record, and the runs the crash interrupted
# are marked failed.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use JobconfigTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = JobconfigTest::start_node('primary', max_workers => 2, allows_streaming => 1);
$primary->safe_psql('postgres', q{
	CREATE TABLE public.ticks (id bigserial PRIMARY KEY, execution_id bigint,
	                           at timestamptz NOT NULL DEFAULT clock_timestamp());
	SELECT jobconfig.create_job('tick', $$
		{"trigger": {"type": "schedule", "schedule": {"cron": "1 seconds"}},
		 "execution": {"command": "INSERT INTO public.ticks (execution_id) VALUES (jobconfig.current_execution_id())"}}$$);
	SELECT jobconfig.create_job('long', $$
		{"execution": {"command": "SELECT pg_sleep(600)",
		               "retry": {"maxAttempts": 2, "initialDelaySeconds": 3600, "jitter": false}}}$$);
});
JobconfigTest::wait_until($primary, 'SELECT count(*) >= 3 FROM public.ticks')
  or die 'the schedule job does not run on the primary';

$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

# The standby replays the primary's runs...
my $ticks_at_start = $standby->safe_psql('postgres', 'SELECT count(*) FROM public.ticks');
JobconfigTest::wait_until($standby, "SELECT count(*) >= $ticks_at_start + 5 FROM public.ticks")
  or die 'the standby does not replay the runs';
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
like($standby->safe_psql('postgres', q{SHOW shared_preload_libraries}), qr/jobconfig/,
	'the standby has jobconfig preloaded');

# ...but runs nothing itself.
is($standby->safe_psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'jobconfig%'}),
	'0', 'no jobconfig worker runs on the standby');
is($standby->safe_psql('postgres', q{SELECT jobconfig.scheduler_status() ->> 'pid'}),
	'', 'scheduler_status() on the standby shows no scheduler');

# A run in progress on the primary when it crashes.
my $long = $primary->safe_psql('postgres', q{SELECT jobconfig.run_job('long')});
JobconfigTest::wait_until($standby,
	"SELECT status = 'running' FROM jobconfig.job_executions WHERE id = $long")
  or die 'the long run is not running on the standby';

# The standby did not fail at anything up to here.
my $standby_log = slurp_file($standby->logfile);
unlike($standby_log, qr/\b(ERROR|FATAL|PANIC):/, 'nothing failed in the standby\'s log');
unlike($standby_log, qr/(background worker|jobconfig).*(exited with exit code [1-9]|terminated by signal)/,
	'no worker failed on the standby');

# Jobs cannot be run there either.
my ($ret, $stdout, $stderr) = $standby->psql('postgres', q{SELECT jobconfig.run_job('tick')});
like($stderr, qr/read-only transaction/, 'run_job on the standby is refused as a read-only transaction');

# The primary crashes; the standby takes over.
my $last_slot_on_primary = $primary->safe_psql('postgres',
	q{SELECT max(scheduled_for) FROM jobconfig.job_executions WHERE trigger_source = 'schedule'});
$primary->stop('immediate');
my $log_offset = -s $standby->logfile;
$standby->promote;
my $promoted_at = $standby->safe_psql('postgres', 'SELECT now()');
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 'f', 'the standby was promoted');

ok(JobconfigTest::wait_until($standby,
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'jobconfig launcher'}),
	'the launcher starts after promotion');
ok(JobconfigTest::wait_until($standby,
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'jobconfig scheduler' AND datname = 'postgres'}),
	'the scheduler starts after promotion');
ok(JobconfigTest::wait_until($standby,
	q{SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'jobconfig executor' AND datname = 'postgres'}),
	'and its executors');

# The schedule keeps firing, and its runs keep arriving.
ok(JobconfigTest::wait_until($standby,
	"SELECT count(*) >= 5 FROM public.ticks WHERE at > '$promoted_at'"),
	'the schedule job keeps running after promotion');
ok(JobconfigTest::wait_until($standby, qq{
	SELECT count(*) >= 5 FROM jobconfig.job_executions
	 WHERE job_id = 'tick' AND status = 'succeeded' AND scheduled_for > '$promoted_at'}),
	'its runs are recorded succeeded on the new primary');

# Let a few more slots pass, then look at the whole history.
my $slots_now = $standby->safe_psql('postgres',
	q{SELECT count(*) FROM jobconfig.job_executions WHERE trigger_source = 'schedule'});
JobconfigTest::wait_until($standby,
	"SELECT count(*) >= $slots_now + 3 FROM jobconfig.job_executions WHERE trigger_source = 'schedule' AND status NOT IN ('queued', 'running')");

is($standby->safe_psql('postgres', q{
	SELECT string_agg(scheduled_for || ' x' || n, ', ') FROM (
	  SELECT scheduled_for, count(*) AS n FROM jobconfig.job_executions
	   WHERE trigger_source = 'schedule' GROUP BY 1 HAVING count(*) > 1) d}),
	'', 'no schedule slot has more than one execution');
is($standby->safe_psql('postgres', q{
	SELECT count(*) FROM (
	  SELECT scheduled_for - lag(scheduled_for) OVER (ORDER BY scheduled_for) AS gap
	    FROM jobconfig.job_executions WHERE trigger_source = 'schedule') g
	 WHERE gap <> interval '1 second'}),
	'0', 'no slot is missing: from the first to the last, every second has its record, across the failover');
is($standby->safe_psql('postgres', qq{
	SELECT count(*) FROM (
	  SELECT scheduled_for - lag(scheduled_for) OVER (ORDER BY scheduled_for) AS gap
	    FROM jobconfig.job_executions
	   WHERE trigger_source = 'schedule' AND status = 'succeeded' AND scheduled_for > '$promoted_at') g
	 WHERE gap > interval '5 seconds'}),
	'0', 'after promotion the job ran every second, with no gap of more than a few seconds');
is($standby->safe_psql('postgres',
		"SELECT max(scheduled_for) > '$last_slot_on_primary' FROM jobconfig.job_executions WHERE trigger_source = 'schedule'"),
	't', 'slots after the primary\'s last are recorded on the new primary');
is($standby->safe_psql('postgres', q{
	SELECT count(*) FROM jobconfig.job_executions e
	 WHERE e.job_id = 'tick' AND e.status = 'succeeded'
	   AND NOT EXISTS (SELECT FROM public.ticks t WHERE t.execution_id = e.id)}),
	'0', 'every run recorded succeeded left its row');

# The run the crash interrupted is failed, says why, and is retried by policy.
like($standby->safe_psql('postgres', "SELECT status || ': ' || error FROM jobconfig.job_executions WHERE id = $long"),
	qr/^failed: interrupted:/, 'the run interrupted by the crash is failed, with an error starting "interrupted:"');
is($standby->safe_psql('postgres', qq{
	SELECT trigger_source || ' ' || attempt || ' ' || status FROM jobconfig.job_executions WHERE cause_id = $long}),
	'retry 2 queued', 'and its retry is queued by its policy');
is($standby->safe_psql('postgres', qq{
	SELECT count(*) FROM jobconfig.job_executions
	 WHERE status = 'running' AND started_at < '$promoted_at'}),
	'0', 'no run of the old primary is left marked running');
ok($standby->log_contains(qr/jobconfig marked \d+ interrupted runs in database "postgres" as failed/, $log_offset),
	'the server log says interrupted runs were marked failed');
ok(!$standby->log_contains(qr/terminated by signal/, $log_offset), 'no worker crashed on the new primary');

$standby->stop;
done_testing();
