# The privilege boundary and the truth of the records, tried as an
# attacker would: no writer climbs through a search_path, an operator or a
# database's settings; a job sees its own role's settings and nothing a
# previous job set; every final status says what became of the run's
# effects, whatever fails or is cancelled around it; final rows never
# change; the timeout of last resort fires on an idle server.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use JobconfigTest;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = JobconfigTest::start_node('trust', max_workers => 2);

# A writer, w, with a schema of traps: "=" on the types jobconfig's own
# statements compare, each making w a superuser when a superuser calls it.
$node->safe_psql('postgres', q{
	CREATE ROLE w LOGIN;
	GRANT service_role TO w;
	CREATE ROLE runner NOLOGIN;
	CREATE ROLE other_runner NOLOGIN;
	GRANT runner, other_runner TO w;
	CREATE SCHEMA evil AUTHORIZATION w;
	CREATE TABLE public.fx (execution_id bigint, what text, value text);
	GRANT ALL ON public.fx TO PUBLIC;
	GRANT USAGE, CREATE ON SCHEMA public TO PUBLIC;
});
$node->safe_psql('postgres', q{
	SET ROLE w;
	CREATE FUNCTION evil.climb() RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
		IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
			EXECUTE 'ALTER ROLE w SUPERUSER';
		END IF;
	END $$;
	GRANT USAGE ON SCHEMA evil TO PUBLIC;
});
for my $type ('bigint', 'integer', 'uuid', 'text')
{
	(my $name = $type) =~ s/ .*//;
	$node->safe_psql('postgres', qq{
		SET ROLE w;
		CREATE FUNCTION evil.eq_$name($type, $type) RETURNS boolean LANGUAGE plpgsql
			AS \$\$ BEGIN PERFORM evil.climb(); RETURN \$1 OPERATOR(pg_catalog.=) \$2; END \$\$;
		CREATE OPERATOR evil.= (LEFTARG = $type, RIGHTARG = $type, FUNCTION = evil.eq_$name);
	});
}

sub w_is_superuser
{
	return $node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'w'});
}

# job(job_id, role, command, %execution): create it as the writer w.
sub job
{
	my ($id, $role, $command, %execution) = @_;
	my $payload = JSON::PP->new->canonical->encode({
		execution => {command => $command, runAs => $role,
			retry => {maxAttempts => 1}, %execution}});
	$node->safe_psql('postgres',
		qq{SET ROLE w; SELECT jobconfig.create_job('$id', \$jc\$$payload\$jc\$)});
}

# run(job_id): run it, wait for it to end, return its execution id.
sub run { return JobconfigTest::run_and_wait($node, $_[0]); }

sub outcome
{
	my ($execution) = @_;
	return $node->safe_psql('postgres',
		"SELECT status || '|' || coalesce(error, '') FROM jobconfig.job_executions WHERE id = $execution");
}

# -- 1. No climb ----------------------------------------------------------

# The job leaves its search_path on the writer's schema: the record
# written after it, as the executor's superuser, must not use it.
job('path-in-batch', 'runner',
	q{SELECT pg_catalog.set_config('search_path', 'evil, pg_catalog', false)});
like(outcome(run('path-in-batch')), qr/^succeeded/, 'a job leaving search_path on a trap schema runs');
$node->safe_psql('postgres', q{
	CREATE PROCEDURE public.set_trap_path() LANGUAGE sql
		AS $$ SELECT pg_catalog.set_config('search_path', 'evil, pg_catalog', false) $$;
	GRANT EXECUTE ON PROCEDURE public.set_trap_path() TO PUBLIC;
});
job('path-top-level', 'runner', q{CALL public.set_trap_path()});
like(outcome(run('path-top-level')), qr/^succeeded/, 'so does a top-level one');
job('path-failing', 'runner',
	q{SELECT pg_catalog.set_config('search_path', 'evil, pg_catalog', false), 1/0});
run('path-failing');
is(w_is_superuser(), 'f', 'no record of a job uses the search_path the job set');

# The write trigger and the delete path, called with a trap search_path.
$node->safe_psql('postgres', q{
	SET ROLE w;
	SELECT jobconfig.create_job('hook', '{"trigger": {"type": "webhook",
		"webhook": {"path": "hook", "secret": "a-long-enough-secret-for-hmac"}},
		"execution": {"command": "SELECT 1", "runAs": "runner"}}');
	SET search_path = evil, pg_catalog;
	SELECT jobconfig.update_job('hook', '{"trigger": {"type": "webhook",
		"webhook": {"path": "hook", "secret": "another-long-enough-secret"}},
		"execution": {"command": "SELECT 2", "runAs": "runner"}}');
	SELECT jobconfig.add_changelog_entry('hook', 'note');
	SELECT jobconfig.delete_job('hook');
});
is(w_is_superuser(), 'f', 'the write trigger, changelog and delete paths pin their search_path');

# A database's owner sets the database's search_path: the workers must not
# take it up, the jobs must (as a new connection of their role would).
$node->safe_psql('postgres', q{
	CREATE ROLE dbo LOGIN;
	CREATE DATABASE t2 OWNER dbo;
});
$node->safe_psql('t2', q{
	CREATE EXTENSION jobconfig;
	CREATE ROLE w2 LOGIN;
	GRANT service_role TO w2;
	GRANT runner TO w2;
	CREATE SCHEMA evil AUTHORIZATION w2;
	CREATE TABLE public.fx (execution_id bigint, what text, value text);
	GRANT ALL ON public.fx TO PUBLIC;
});
for my $type ('bigint', 'uuid')
{
	(my $name = $type) =~ s/bigint/int8/;
	$node->safe_psql('t2', qq{
		SET ROLE w2;
		CREATE FUNCTION evil.eq_$name($type, $type) RETURNS boolean LANGUAGE plpgsql AS \$\$
		BEGIN
			IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
				EXECUTE 'ALTER ROLE w2 SUPERUSER';
			END IF;
			RETURN \$1 OPERATOR(pg_catalog.=) \$2;
		END \$\$;
		CREATE OPERATOR evil.= (LEFTARG = $type, RIGHTARG = $type, FUNCTION = evil.eq_$name);
		GRANT USAGE ON SCHEMA evil TO PUBLIC;
	});
}
$node->safe_psql('t2', q{
	SET ROLE dbo;
	ALTER DATABASE t2 SET search_path = evil, pg_catalog;
	ALTER DATABASE t2 SET default_transaction_read_only = on;
	ALTER DATABASE t2 SET statement_timeout = '1ms';
});
# The scheduler and executors of t2 connect again, with those settings;
# then the settings that would get in this test's way go again (the
# workers keep what they connected with), and the search_path stays.
$node->restart;
$node->poll_query_until('postgres', q{
	SELECT count(*) = 3 FROM pg_stat_activity
	 WHERE backend_type IN ('jobconfig scheduler', 'jobconfig executor') AND datname = 't2'})
  or die "the workers of t2 did not start";
$node->safe_psql('postgres', q{
	ALTER DATABASE t2 RESET default_transaction_read_only;
	ALTER DATABASE t2 RESET statement_timeout;
});
$node->safe_psql('t2', q{
	SET ROLE w2;
	SELECT jobconfig.create_job('sees-path', '{"execution": {"runAs": "runner", "retry": {"maxAttempts": 1},
		"command": "INSERT INTO public.fx VALUES (jobconfig.current_execution_id(), ''search_path'', current_setting(''search_path''))"}}');
});
my $t2_run = JobconfigTest::run_and_wait($node, 'sees-path', undef, 't2');
is($node->safe_psql('t2', "SELECT status FROM jobconfig.job_executions WHERE id = $t2_run"),
	'succeeded', 'a run in a database whose owner set search_path, read-only and a 1 ms statement_timeout is recorded: the workers run with the server settings');
is($node->safe_psql('t2', "SELECT value FROM public.fx WHERE execution_id = $t2_run"),
	'evil, pg_catalog', 'while the job sees the database setting, as a new connection would');
is($node->safe_psql('t2', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'w2'}),
	'f', "the database owner's search_path reaches no statement of jobconfig's");
$node->safe_psql('t2', q{ALTER DATABASE t2 RESET ALL});

# -- 2. What a job sees ---------------------------------------------------

$node->safe_psql('postgres', q{
	ALTER ROLE runner IN DATABASE postgres SET jobconfig_test.flavour = 'runner-here';
	ALTER ROLE other_runner SET jobconfig_test.flavour = 'other-anywhere';
});
my $sees = q{INSERT INTO public.fx VALUES (jobconfig.current_execution_id(), 'sees', concat_ws(',', current_setting('jobconfig_test.flavour', true), current_setting('work_mem'), session_user, current_setting('is_superuser')))};
job('sees-runner', 'runner', $sees);
job('sees-other', 'other_runner', $sees);
job('sets-work-mem', 'runner', q{SET work_mem = '77MB'});
my ($r1, $r2, $r3, $r4) = (run('sees-runner'), run('sets-work-mem'), run('sees-other'), run('sees-runner'));
my $default_mem = $node->safe_psql('postgres', 'SHOW work_mem');
is($node->safe_psql('postgres', "SELECT value FROM public.fx WHERE execution_id = $r1"),
	"runner-here,$default_mem,runner,off", "a job sees its role's settings in this database, and session_user is its role");
is($node->safe_psql('postgres', "SELECT value FROM public.fx WHERE execution_id = $r3"),
	"other-anywhere,$default_mem,other_runner,off", "another role's job sees that role's, and not what the last job set");
is($node->safe_psql('postgres', "SELECT value FROM public.fx WHERE execution_id = $r4"),
	"runner-here,$default_mem,runner,off", 'the same again after both');

# -- 3. Records that tell the truth ----------------------------------------

$node->safe_psql('postgres', q{
	CREATE TABLE public.parent (id int PRIMARY KEY);
	CREATE TABLE public.child (parent int REFERENCES public.parent DEFERRABLE INITIALLY DEFERRED);
	GRANT ALL ON public.parent, public.child TO PUBLIC;
	CREATE TABLE public.fired_as (who text);
	GRANT ALL ON public.fired_as TO PUBLIC;
	CREATE PROCEDURE public.orphan() LANGUAGE sql AS $$ INSERT INTO public.child VALUES (42) $$;
	CREATE PROCEDURE public.ro_after_insert() LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO public.fx VALUES (jobconfig.current_execution_id(), 'ro', 'effect');
		PERFORM set_config('transaction_read_only', 'on', true);
	END $$;
	CREATE PROCEDURE public.commit_then_ro() LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO public.fx VALUES (jobconfig.current_execution_id(), 'committed', 'effect');
		COMMIT;
		PERFORM set_config('transaction_read_only', 'on', true);
	END $$;
	GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA public TO PUBLIC;
	CREATE FUNCTION public.note_who() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN INSERT INTO public.fired_as VALUES (current_user || '/' || session_user); RETURN NULL; END $$;
	CREATE TABLE public.watched (v int);
	GRANT ALL ON public.watched TO PUBLIC;
	CREATE CONSTRAINT TRIGGER watched_note AFTER INSERT ON public.watched
		DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.note_who();
	CREATE PROCEDURE public.watch_two() LANGUAGE sql AS $$ INSERT INTO public.watched VALUES (2) $$;
	CREATE PROCEDURE public.short_effect() LANGUAGE sql
		AS $$ INSERT INTO public.fx VALUES (jobconfig.current_execution_id(), 'short', 'effect');
		      SELECT pg_sleep(random() * 0.003) $$;
	GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA public TO PUBLIC;
});

job('commit-fails', 'runner', q{CALL public.orphan()});
my $cf = run('commit-fails');
like(outcome($cf), qr/^failed\|.*foreign key/, 'a top-level run whose COMMIT fails is recorded failed, not left running');

job('record-fails', 'runner', q{CALL public.ro_after_insert()}, retry => {maxAttempts => 3, initialDelaySeconds => 1});
my $rf = run('record-fails');
like(outcome($rf), qr/^failed\|not recorded: /, 'a run that cannot be recorded with its transaction is not recorded succeeded');
is($node->safe_psql('postgres', "SELECT count(*) FROM public.fx WHERE execution_id = $rf"), '0',
	'and its effects were indeed rolled back');

job('committed-unrecorded', 'runner', q{CALL public.commit_then_ro()}, retry => {maxAttempts => 3, initialDelaySeconds => 1});
my $cu = run('committed-unrecorded');
like(outcome($cu), qr/^failed\|not recorded: the command committed 1 transaction.*not retried/,
	'a run that committed but could not be recorded says so');
sleep 2;
is($node->safe_psql('postgres', q{SELECT count(*) FROM jobconfig.job_executions WHERE job_id = 'committed-unrecorded'}),
	'1', 'and is not retried');

job('deferred-batch', 'runner', q{INSERT INTO public.watched VALUES (1)});
run('deferred-batch');
job('deferred-top-level', 'runner', q{CALL public.watch_two()});
run('deferred-top-level');
is($node->safe_psql('postgres', q{SELECT string_agg(who, ',' ORDER BY who) FROM public.fired_as}),
	'runner/runner,runner/runner', "a job's deferred triggers fire as its role, never the executor's");

# A writer cannot turn history back.
my $done = run('sees-runner');
my ($rc, $out, $err) = $node->psql('postgres',
	"SET ROLE w; UPDATE jobconfig.job_executions SET status = 'queued', finished_at = NULL WHERE id = $done");
like($err, qr/has ended \(succeeded\): its status cannot change/, 'a writer cannot requeue a succeeded run');
($rc, $out, $err) = $node->psql('postgres',
	"UPDATE jobconfig.job_executions SET log = NULL WHERE id = $done");
like($err, qr/its log cannot change/, 'nor can a superuser change a final row');
($rc, $out, $err) = $node->psql('postgres',
	"SET ROLE w; INSERT INTO jobconfig.job_executions (job_id, trigger_source, status, scheduled_for) VALUES ('x', 'manual', 'queued', now() + interval '1 day') RETURNING id");
my ($fake) = $out =~ /(\d+)/;
($rc, $out, $err) = $node->psql('postgres',
	"SET ROLE w; UPDATE jobconfig.job_executions SET status = 'running', worker_pid = 1 WHERE id = $fake");
like($err, qr/cannot go from queued to running/, 'a writer cannot make a run look running');

# Cancels racing with the ends of short runs: true means cancelled, with
# no effect; every run that succeeded has its effect; nothing else fails.
job('short', 'runner', q{INSERT INTO public.fx VALUES (jobconfig.current_execution_id(), 'short', 'effect'); SELECT pg_sleep(random() * 0.003)});
job('short-top', 'runner', q{CALL public.short_effect()});
$node->safe_psql('postgres', q{
	CREATE TABLE public.cancels (execution_id bigint, answered boolean);
	GRANT ALL ON public.cancels TO PUBLIC;
	CREATE PROCEDURE public.race(n int) LANGUAGE plpgsql AS $$
	DECLARE
		id bigint;
	BEGIN
		FOR i IN 1..n LOOP
			id := jobconfig.run_job(CASE WHEN i % 4 = 0 THEN 'short-top' ELSE 'short' END);
			COMMIT;
			PERFORM pg_sleep(random() * 0.006);
			INSERT INTO public.cancels VALUES (id, jobconfig.cancel_execution(id));
			COMMIT;
		END LOOP;
	END $$;
});
$node->safe_psql('postgres', 'SET ROLE w; CALL public.race(400)');
ok(JobconfigTest::wait_until($node, q{SELECT count(*) = 0 FROM jobconfig.job_executions
	WHERE job_id IN ('short', 'short-top') AND finished_at IS NULL}), 'the raced runs all end');
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.cancels c
	JOIN jobconfig.job_executions e ON e.id = c.execution_id
	WHERE c.answered AND e.status <> 'cancelled'}), '0', 'a cancel that answered true always ends the run cancelled');
is($node->safe_psql('postgres', q{SELECT count(*) FROM jobconfig.job_executions e
	WHERE e.job_id IN ('short', 'short-top')
	  AND (e.status = 'succeeded') <> EXISTS (SELECT FROM public.fx f WHERE f.execution_id = e.id)}),
	'0', 'a run has its effect exactly when it succeeded');
is($node->safe_psql('postgres', q{SELECT count(*) FROM jobconfig.job_executions
	WHERE job_id IN ('short', 'short-top') AND status NOT IN ('succeeded', 'cancelled')}),
	'0', 'a late cancel harms no run: none failed');
note($node->safe_psql('postgres', q{SELECT string_agg(status || ' ' || n, ', ') FROM
	(SELECT status, count(*) n FROM jobconfig.job_executions WHERE job_id IN ('short', 'short-top') GROUP BY 1) s}));

# A cancel rolled back to a savepoint is no cancel.
job('sleeper', 'runner', q{SELECT pg_sleep(1)});
my $sleeper = $node->safe_psql('postgres', q{SET ROLE w; SELECT jobconfig.run_job('sleeper')});
JobconfigTest::wait_until($node, "SELECT status = 'running' FROM jobconfig.job_executions WHERE id = $sleeper");
$node->safe_psql('postgres', qq{
	SET ROLE w;
	BEGIN;
	SAVEPOINT s;
	SELECT jobconfig.cancel_execution($sleeper);
	ROLLBACK TO SAVEPOINT s;
	COMMIT;
});
JobconfigTest::wait_until($node, "SELECT finished_at IS NOT NULL FROM jobconfig.job_executions WHERE id = $sleeper");
like(outcome($sleeper), qr/^succeeded/, 'a cancel rolled back to a savepoint does not cancel the run');

# What a run stores is bounded by log_max_bytes (64kB here), errors too.
job('huge-error', 'runner', q{DO $$ BEGIN RAISE NOTICE '%', repeat('n', 5000000); RAISE EXCEPTION '%', repeat('m', 5000000) USING DETAIL = repeat('d', 5000000), HINT = repeat('h', 5000000); END $$});
job('huge-error-batch', 'runner', q{SELECT repeat('x', 5000000)::integer});
for my $huge ('huge-error', 'huge-error-batch')
{
	my $id = run($huge);
	is($node->safe_psql('postgres', qq{SELECT status, octet_length(error) <= 65536 + 3,
		octet_length(log::text) < 3 * 65536 FROM jobconfig.job_executions WHERE id = $id}),
		'failed|t|t', "$huge: a 5 MB error is stored cut to log_max_bytes");
}

# -- 4. The timeout of last resort on an idle server ----------------------

job('stubborn', 'runner',
	q{DO $$ BEGIN LOOP BEGIN PERFORM pg_sleep(5); EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; END $$},
	timeoutSeconds => 1);
my $stubborn = $node->safe_psql('postgres', q{SET ROLE w; SELECT jobconfig.run_job('stubborn')});
my $started = time;
ok(JobconfigTest::wait_until($node,
	"SELECT status <> 'running' AND status <> 'queued' FROM jobconfig.job_executions WHERE id = $stubborn"),
	'a run that ignores its cancel ends, with nothing else waking the scheduler');
cmp_ok(time - $started, '<=', 45, 'within 30 s of its timeout (and the poll)');

done_testing();
