# Runs recorded ahead of their slot: a job that allows overlapping runs has
# its schedule run queued up to half a second before the slot, and started
# at the slot, never before; a job with another concurrency policy is
# recorded at its slot.  A run recorded ahead is taken back if its job
# changes, jobconfig.enabled is turned off, or the server restarts before it
# starts, and its slot is then recorded again only if it still is one.
#
# Each "taken back" case locks the run from a second session first, so no
# executor can start it while the test acts: what is checked is what
# jobconfig does, not how fast the machine is.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use JobconfigTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = JobconfigTest::start_node('fire_ahead', max_workers => 2);
$node->safe_psql('postgres',
	q{CREATE TABLE public.ticks (job text, execution bigint DEFAULT jobconfig.current_execution_id(),
		at timestamptz DEFAULT clock_timestamp())});

# create(job_id, cron, concurrency)
sub create
{
	my ($id, $cron, $concurrency) = @_;
	$node->safe_psql('postgres', qq{SELECT jobconfig.create_job('$id', \$jc\${
		"trigger": {"type": "schedule", "schedule": {"cron": "$cron"}},
		"execution": {"command": "INSERT INTO public.ticks (job) VALUES ('$id')",
		              "concurrency": "$concurrency"}}\$jc\$)});
}

sub query
{
	return $node->safe_psql('postgres', $_[0]);
}

# hold_run_ahead(job_id): in a second session, wait for the job's run
# recorded ahead of its slot and lock it, in a transaction left open.
# Returns the session, the execution id and its slot.
sub hold_run_ahead
{
	my ($job) = @_;
	my $session = $node->background_psql('postgres');
	$session->query_safe('BEGIN');
	$session->query_safe(qq{DO \$\$ DECLARE give_up timestamptz := clock_timestamp() + interval '20 s';
	BEGIN
		LOOP
			PERFORM 1 FROM jobconfig.job_executions
			  WHERE job_id = '$job' AND status = 'queued'
			    AND queued_at < scheduled_for AND scheduled_for > clock_timestamp()
			    FOR UPDATE;
			EXIT WHEN FOUND;
			IF clock_timestamp() > give_up THEN
				RAISE EXCEPTION 'no run of $job was recorded ahead of its slot in 20 s';
			END IF;
			PERFORM pg_sleep(0.005);
		END LOOP;
	END \$\$});
	my $row = $session->query_safe(qq{SELECT id || '|' || extract(epoch FROM scheduled_for)
		FROM jobconfig.job_executions WHERE job_id = '$job' AND status = 'queued'
		 AND queued_at < scheduled_for});
	my ($id, $slot) = split /\|/, $row;
	return ($session, $id, $slot);
}

# release(session, slot): once the slot has passed, end the lock.
sub release
{
	my ($session, $slot) = @_;
	query("SELECT pg_sleep(greatest(0, $slot - extract(epoch FROM clock_timestamp()) + 0.5))");
	$session->query_safe('COMMIT');
	$session->quit;
}

# Recorded ahead, started at the slot.
create('ahead', '2 seconds', 'allow');
create('at-slot', '2 seconds', 'forbid');
JobconfigTest::wait_until($node, q{SELECT count(*) = 2 AND bool_and(n >= 3) FROM (
	SELECT count(*) AS n FROM jobconfig.job_executions
	 WHERE job_id IN ('ahead', 'at-slot') AND status = 'succeeded' GROUP BY job_id) c});
is(query(q{SELECT count(*) FILTER (WHERE queued_at < scheduled_for) > 0
	FROM jobconfig.job_executions WHERE job_id = 'ahead'}),
	't', 'an "allow" job has its run recorded before the slot');
is(query(q{SELECT count(*) FROM jobconfig.job_executions
	WHERE job_id = 'at-slot' AND queued_at < scheduled_for}),
	'0', 'a "forbid" job is recorded at its slot');
is(query(q{SELECT count(*) FROM jobconfig.job_executions
	WHERE job_id = 'ahead' AND started_at < scheduled_for}),
	'0', 'no run recorded ahead starts before its slot');
is(query(q{SELECT count(*) FILTER (WHERE t.at < e.scheduled_for) || '/' || (count(*) > 0)
	FROM public.ticks t JOIN jobconfig.job_executions e ON e.id = t.execution WHERE t.job = 'ahead'}),
	'0/true', "no run's command runs before its slot");
query(q{SELECT jobconfig.set_job_enabled(j, false) FROM unnest(ARRAY['ahead', 'at-slot']) j});

# Changed before its slot: a run recorded ahead whose slot the new schedule
# does not have is taken back, and the job goes on by its new schedule.
create('edited', '2 seconds', 'allow');
my ($session, $id, $slot) = hold_run_ahead('edited');
query(q{SELECT jobconfig.update_job('edited', jsonb_set(payload, '{trigger,schedule,cron}', '"0 0 1 1 *"'))
	FROM jobconfig.job_configs WHERE job_id = 'edited'});
release($session, $slot);
ok(JobconfigTest::wait_until($node, "SELECT count(*) = 0 FROM jobconfig.job_executions WHERE id = $id"),
	'an edit before the slot takes back the run recorded ahead');
is(query(qq{SELECT count(*) FROM jobconfig.job_executions
	WHERE job_id = 'edited' AND scheduled_for = to_timestamp($slot)}),
	'0', 'the slot the new schedule does not have is not recorded again');
is(query(q{SELECT next_run_at > now() + interval '59 minutes' FROM jobconfig.job_configs
	WHERE job_id = 'edited'}), 't', 'the job waits for the slot of its new (yearly) schedule');

# Changed in a way that keeps the slot (its command): taken back, then
# recorded again, and run once with the new command.
create('recommanded', '2 seconds', 'allow');
($session, $id, $slot) = hold_run_ahead('recommanded');
query(q{SELECT jobconfig.update_job('recommanded', jsonb_set(payload, '{execution,command}',
	'"INSERT INTO public.ticks (job) VALUES (''recommanded, new'')"'))
	FROM jobconfig.job_configs WHERE job_id = 'recommanded'});
release($session, $slot);
ok(JobconfigTest::wait_until($node, qq{SELECT count(*) = 1 FROM jobconfig.job_executions
	WHERE job_id = 'recommanded' AND scheduled_for = to_timestamp($slot) AND status = 'succeeded'}),
	'a slot the edited job still has runs once');
is(query(qq{SELECT count(*) FROM jobconfig.job_executions WHERE id = $id}), '0',
	'... from a new record, the old one taken back');
ok(JobconfigTest::wait_until($node, q{SELECT count(*) > 0 FROM public.ticks WHERE job = 'recommanded, new'}),
	'... with the new command');
query(q{SELECT jobconfig.set_job_enabled('recommanded', false)});

# jobconfig.enabled turned off before the slot: taken back, and recorded
# when it is back on (within a minute: on time, not a missed run).
create('paused', '2 seconds', 'allow');
($session, $id, $slot) = hold_run_ahead('paused');
query(q{ALTER SYSTEM SET jobconfig.enabled = off});
query(q{SELECT pg_reload_conf()});
release($session, $slot);
ok(JobconfigTest::wait_until($node, "SELECT count(*) = 0 FROM jobconfig.job_executions WHERE id = $id"),
	'turning jobconfig.enabled off takes back the run recorded ahead');
is(query(qq{SELECT next_run_at = to_timestamp($slot) FROM jobconfig.job_configs WHERE job_id = 'paused'}),
	't', '... and the job will record that slot again');
query(q{ALTER SYSTEM RESET jobconfig.enabled});
query(q{SELECT pg_reload_conf()});
ok(JobconfigTest::wait_until($node, qq{SELECT count(*) = 1 FROM jobconfig.job_executions
	WHERE job_id = 'paused' AND scheduled_for = to_timestamp($slot) AND status = 'succeeded'}),
	'back on, the slot runs, once');
query(q{SELECT jobconfig.set_job_enabled('paused', false)});

# The server stopped before the slot: at start the run recorded ahead is
# taken back, so that missedRuns judges its slot like any other.  (Started
# with jobconfig.enabled off, so that nothing fires while the test looks.)
create('restarted', '2 seconds', 'allow');
($session, $id, $slot) = hold_run_ahead('restarted');
$node->stop('immediate');
eval { $session->quit };
$node->append_conf('postgresql.conf', 'jobconfig.enabled = off');
$node->start;
JobconfigTest::wait_for_workers($node, 2);
is(query("SELECT count(*) FROM jobconfig.job_executions WHERE id = $id"), '0',
	'after a crash the run recorded ahead is taken back');
is(query(qq{SELECT next_run_at = to_timestamp($slot) FROM jobconfig.job_configs WHERE job_id = 'restarted'}),
	't', '... and its slot is the job\'s next one again');
$node->append_conf('postgresql.conf', 'jobconfig.enabled = on');
$node->reload;
ok(JobconfigTest::wait_until($node, qq{SELECT count(*) = 1 FROM jobconfig.job_executions
	WHERE job_id = 'restarted' AND scheduled_for = to_timestamp($slot)}),
	'back on, the slot is recorded once');

is(query(q{SELECT count(*) FROM (SELECT 1 FROM jobconfig.job_executions
	WHERE trigger_source = 'schedule' GROUP BY job_config_id, scheduled_for HAVING count(*) > 1) d}),
	'0', 'no slot has two executions');
ok(!$node->log_contains('terminated by signal'), 'no worker crashed');
$node->stop;
done_testing();
