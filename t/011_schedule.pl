# Schedules: slots fire on time, once each; an edit takes effect at once;
# missedRuns and concurrency behave as named; @reboot fires once per start;
# jobconfig.enabled pauses everything.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use JobconfigTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = JobconfigTest::start_node('schedule', max_workers => 2);
$node->safe_psql('postgres',
	q{CREATE TABLE public.ticks (job text, slot timestamptz, at timestamptz DEFAULT clock_timestamp())});

# create(job_id, cron, extra execution keys)
sub create
{
	my ($id, $cron, $execution) = @_;
	$execution //= '';
	$node->safe_psql('postgres', qq{SELECT jobconfig.create_job('$id', \$jc\${
		"trigger": {"type": "schedule", "schedule": {"cron": "$cron"}},
		"execution": {"command": "INSERT INTO public.ticks (job) VALUES ('$id')" $execution}}\$jc\$)});
}

# count_runs(job_id, status): executions of a job in that status.
sub count_runs
{
	my ($id, $status) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM jobconfig.job_executions WHERE job_id = '$id' AND status = '$status'");
}

# An "N seconds" schedule fires every N seconds, on its slots.
create('every-2s', '2 seconds');
JobconfigTest::wait_until($node, q{SELECT count(*) >= 4 FROM jobconfig.job_executions
	WHERE job_id = 'every-2s' AND status = 'succeeded'});
my $spacing = $node->safe_psql('postgres', q{
	SELECT min(d), max(d) FROM (
		SELECT extract(epoch FROM scheduled_for - lag(scheduled_for) OVER (ORDER BY scheduled_for))::float8 AS d
		  FROM jobconfig.job_executions WHERE job_id = 'every-2s') s WHERE d IS NOT NULL});
is($spacing, '2|2', 'slots are exactly 2 s apart');
cmp_ok($node->safe_psql('postgres', q{SELECT max(extract(epoch FROM started_at - scheduled_for))
	FROM jobconfig.job_executions WHERE job_id = 'every-2s'}), '<', 1.5,
	'each run starts soon after its slot');
is($node->safe_psql('postgres', q{SELECT count(*) FROM (SELECT scheduled_for FROM jobconfig.job_executions
	WHERE trigger_source = 'schedule' GROUP BY job_config_id, scheduled_for HAVING count(*) > 1) d}),
	'0', 'no slot has two executions');

# A cron schedule fires at the minute boundary.
create('every-minute', '* * * * *');
JobconfigTest::wait_until($node, q{SELECT count(*) >= 1 FROM jobconfig.job_executions
	WHERE job_id = 'every-minute' AND status = 'succeeded'});
is($node->safe_psql('postgres', q{SELECT extract(second FROM scheduled_for) = 0
	AND started_at - scheduled_for < interval '2 seconds'
	FROM jobconfig.job_executions WHERE job_id = 'every-minute' ORDER BY id LIMIT 1}),
	't', 'a "* * * * *" job fires at the start of the minute');

# An edit takes effect at once: a job switched from yearly to every second
# fires within seconds, and disabling it stops it.
create('edited', '0 0 1 1 *');
$node->safe_psql('postgres', q{SELECT jobconfig.update_job('edited', jsonb_set(
	(SELECT payload FROM jobconfig.job_configs WHERE job_id = 'edited'),
	'{trigger,schedule,cron}', '"1 seconds"'))});
JobconfigTest::wait_until($node, q{SELECT count(*) >= 2 FROM jobconfig.job_executions WHERE job_id = 'edited'});
pass('an edited schedule takes effect without a restart');
$node->safe_psql('postgres', q{SELECT jobconfig.set_job_enabled('edited', false)});
# Wait until the last run it was allowed has ended, then make sure no more come.
JobconfigTest::wait_until($node, q{SELECT count(*) = 0 FROM jobconfig.job_executions
	WHERE job_id = 'edited' AND status IN ('queued', 'running')});
my $before = $node->safe_psql('postgres', q{SELECT count(*) FROM jobconfig.job_executions WHERE job_id = 'edited'});
$node->safe_psql('postgres', q{SELECT jobconfig.set_job_enabled('every-2s', false)});
$node->safe_psql('postgres', 'SELECT pg_sleep(3)');
is($node->safe_psql('postgres', q{SELECT count(*) FROM jobconfig.job_executions WHERE job_id = 'edited'}),
	$before, 'a disabled job fires no more');
like($node->safe_psql('postgres', q{SELECT (jobconfig.scheduler_status() ->> 'changesApplied')::int}),
	qr/^[1-9]\d*$/, 'scheduler_status() counts the changes applied');

# concurrency "forbid": a slot due while the previous run still runs is
# recorded skipped, with the reason; "allow" runs both.
create('forbid', '1 seconds', q{, "concurrency": "forbid", "command": "SELECT pg_sleep(2.5)"});
JobconfigTest::wait_until($node, q{SELECT count(*) >= 2 FROM jobconfig.job_executions
	WHERE job_id = 'forbid' AND status = 'skipped'});
like($node->safe_psql('postgres', q{SELECT error FROM jobconfig.job_executions
	WHERE job_id = 'forbid' AND status = 'skipped' LIMIT 1}),
	qr/^skipped: execution \d+ of this job was still (running|queued)$/, 'an overlapping slot is skipped, saying why');
is($node->safe_psql('postgres', q{SELECT count(*) FROM jobconfig.job_executions
	WHERE job_id = 'forbid' AND status = 'running'}), '1', 'never two runs of a forbid job at once');
$node->safe_psql('postgres', q{SELECT jobconfig.set_job_enabled('forbid', false)});

# concurrency "replace": the running one is cancelled for the new slot.
create('replace', '2 seconds', q{, "concurrency": "replace", "command": "SELECT pg_sleep(10)"});
JobconfigTest::wait_until($node, q{SELECT count(*) >= 1 FROM jobconfig.job_executions
	WHERE job_id = 'replace' AND status = 'cancelled'});
like($node->safe_psql('postgres', q{SELECT error FROM jobconfig.job_executions
	WHERE job_id = 'replace' AND status = 'cancelled' ORDER BY id LIMIT 1}),
	qr/replaced by a newer run/, 'a running run is replaced by the next slot');
$node->safe_psql('postgres', q{SELECT jobconfig.set_job_enabled('replace', false)});

# concurrency "allow": overlapping runs run side by side.
create('allow', '1 seconds', q{, "concurrency": "allow", "command": "SELECT pg_sleep(1.5)"});
JobconfigTest::wait_until($node, q{SELECT count(*) >= 3 FROM jobconfig.job_executions
	WHERE job_id = 'allow' AND status = 'succeeded'});
is($node->safe_psql('postgres', q{SELECT count(*) FROM jobconfig.job_executions
	WHERE job_id = 'allow' AND status = 'skipped'}), '0', 'allow skips nothing');
$node->safe_psql('postgres', q{SELECT jobconfig.set_job_enabled('allow', false)});

# missedRuns after downtime.  Each job fires hourly at a minute 5 minutes
# back, and its next slot is moved 3 hours back, as if the server had been
# down since: 4 slots were missed and none is due now.
my $minute = $node->safe_psql('postgres', q{SELECT extract(minute FROM now() - interval '5 minutes')::int});
for my $policy ('skip', 'once', 'all')
{
	create("missed-$policy", "$minute * * * *", qq{, "missedRuns": "$policy", "concurrency": "allow"});
}
$node->safe_psql('postgres', q{
	SET session_replication_role = replica;
	UPDATE jobconfig.job_configs
	   SET next_run_at = date_trunc('minute', now() - interval '5 minutes') - interval '3 hours'
	 WHERE job_id LIKE 'missed-%';
	RESET session_replication_role;});
$node->restart;
JobconfigTest::wait_for_workers($node, 2);
JobconfigTest::wait_until($node, q{SELECT count(*) = 12 FROM jobconfig.job_executions WHERE job_id LIKE 'missed-%'});
JobconfigTest::wait_until($node, q{SELECT count(*) = 0 FROM jobconfig.job_executions
	WHERE job_id LIKE 'missed-%' AND status IN ('queued', 'running')});
my $outcomes = q{SELECT string_agg(status, ',' ORDER BY scheduled_for) FROM jobconfig.job_executions WHERE job_id = };
is($node->safe_psql('postgres', "$outcomes 'missed-skip'"), 'skipped,skipped,skipped,skipped',
	'missedRuns skip: each missed slot is recorded skipped');
is($node->safe_psql('postgres', "$outcomes 'missed-once'"), 'skipped,skipped,skipped,succeeded',
	'missedRuns once: the latest missed slot runs, the others are recorded skipped');
is($node->safe_psql('postgres', "$outcomes 'missed-all'"), 'succeeded,succeeded,succeeded,succeeded',
	'missedRuns all: every missed slot runs');
like($node->safe_psql('postgres', "SELECT min(error) FROM jobconfig.job_executions WHERE job_id = 'missed-skip'"),
	qr/^missed: /, 'a missed slot says it was missed');
is($node->safe_psql('postgres', q{SELECT count(DISTINCT scheduled_for) FROM jobconfig.job_executions WHERE job_id = 'missed-all'}),
	'4', 'one record per slot');
# (next_run_at is saved a moment after a round of slots is recorded)
ok(JobconfigTest::wait_until($node, q{SELECT bool_and(next_run_at > now()) FROM jobconfig.job_configs WHERE job_id LIKE 'missed-%'}),
	'the next slot is in the future again');
$node->safe_psql('postgres', q{SELECT jobconfig.set_job_enabled(j, false) FROM unnest(ARRAY['missed-skip', 'missed-once', 'missed-all']) j});

# @reboot fires once each time the scheduler starts.
create('at-boot', '@reboot');
is(count_runs('at-boot', 'succeeded'), '0', '@reboot does not fire when created');
$node->restart;
JobconfigTest::wait_for_workers($node, 2);
JobconfigTest::wait_until($node, q{SELECT count(*) = 1 FROM jobconfig.job_executions WHERE job_id = 'at-boot' AND status = 'succeeded'});
$node->restart;
JobconfigTest::wait_for_workers($node, 2);
JobconfigTest::wait_until($node, q{SELECT count(*) = 2 FROM jobconfig.job_executions WHERE job_id = 'at-boot' AND status = 'succeeded'});
pass('@reboot fired once per start');

# The kill switch: jobconfig.enabled = off fires and runs nothing; runs
# queued meanwhile start when it is back on.
$node->safe_psql('postgres', q{ALTER SYSTEM SET jobconfig.enabled = off; SELECT pg_reload_conf();});
$node->safe_psql('postgres', q{SELECT jobconfig.create_job('manual-paused', '{"execution": {"command": "SELECT 1"}}')});
$node->safe_psql('postgres', 'SELECT pg_sleep(0.5)');
my $paused = $node->safe_psql('postgres', q{SELECT jobconfig.run_job('manual-paused')});
create('paused-schedule', '1 seconds');
$node->safe_psql('postgres', 'SELECT pg_sleep(3)');
is($node->safe_psql('postgres', "SELECT status FROM jobconfig.job_executions WHERE id = $paused"),
	'queued', 'with jobconfig.enabled off a queued run waits');
is(count_runs('paused-schedule', 'succeeded') + count_runs('paused-schedule', 'queued'), 0,
	'with jobconfig.enabled off no slot fires');
$node->safe_psql('postgres', q{ALTER SYSTEM SET jobconfig.enabled = on; SELECT pg_reload_conf();});
JobconfigTest::wait_until($node, "SELECT status = 'succeeded' FROM jobconfig.job_executions WHERE id = $paused");
JobconfigTest::wait_until($node, q{SELECT count(*) >= 1 FROM jobconfig.job_executions WHERE job_id = 'paused-schedule' AND status = 'succeeded'});
pass('back on, the queued run and the schedule run');

ok(!$node->log_contains('terminated by signal'), 'no worker crashed');
$node->stop;
done_testing();
