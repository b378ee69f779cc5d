# A job runs with exactly its runAs role's rights, NOLOGIN roles included,
# and cannot climb back; nothing one job leaves in a pooled worker's
# session reaches the next job.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use JobconfigTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# One executor, so that job B surely runs in the session job A used.
my $node = JobconfigTest::start_node('security', max_workers => 1);
$node->safe_psql('postgres', q{
	CREATE ROLE app_worker NOLOGIN;
	CREATE ROLE other_worker NOLOGIN;
	GRANT app_worker, other_worker TO service_role;
	CREATE TABLE public.secrets (v text);
	INSERT INTO public.secrets VALUES ('top secret');
	CREATE TABLE public.seen (job text, what text, value text);
	GRANT INSERT ON public.seen TO app_worker, other_worker;
	GRANT USAGE, CREATE ON SCHEMA public TO app_worker, other_worker;
});

# job(job_id, role, command, extra): create the job as service_role.
sub job
{
	my ($id, $role, $command) = @_;
	$command =~ s/\s+/ /g;		# one line: JSON strings hold no newline
	$node->safe_psql('postgres', qq{SET ROLE service_role; SELECT jobconfig.create_job('$id', \$jc\${
		"execution": {"command": "$command", "runAs": "$role", "retry": {"maxAttempts": 1}}}\$jc\$)});
}

# run(job_id): run it, return "status|error".
sub run
{
	my ($id) = @_;
	my $execution = JobconfigTest::run_and_wait($node, $id);
	return $node->safe_psql('postgres',
		"SELECT status || '|' || coalesce(error, '') FROM jobconfig.job_executions WHERE id = $execution");
}

# It runs as its role: current_user is the role, and a NOLOGIN role works.
job('whoami', 'app_worker', q{INSERT INTO public.seen VALUES ('whoami', 'current_user', current_user)});
is(run('whoami'), 'succeeded|', 'a job runs as a NOLOGIN role');
is($node->safe_psql('postgres', q{SELECT value FROM public.seen WHERE job = 'whoami'}),
	'app_worker', 'current_user is the runAs role');

# With exactly that role's rights: no read of what it was not granted.
job('peek', 'app_worker', q{INSERT INTO public.seen SELECT 'peek', 'secret', v FROM public.secrets});
is(run('peek'), 'failed|permission denied for table secrets', 'a job cannot read what its role cannot');

# It cannot climb back to the worker's own role.
job('reset-role', 'app_worker', q{RESET ROLE; INSERT INTO public.seen SELECT 'reset-role', 'secret', v FROM public.secrets});
like(run('reset-role'), qr/^failed\|cannot set parameter "role" within security-definer function/, 'RESET ROLE fails');
job('set-role', 'app_worker', q{SET ROLE postgres; INSERT INTO public.seen SELECT 'set-role', 'secret', v FROM public.secrets});
like(run('set-role'), qr/^failed\|cannot set parameter "role" within security-definer function/, 'SET ROLE fails');
job('set-role-member', 'app_worker', q{SET ROLE other_worker});
like(run('set-role-member'), qr/^failed\|cannot set parameter "role"/, 'SET ROLE to any other role fails too');
job('session-auth', 'app_worker', q{SET SESSION AUTHORIZATION postgres});
like(run('session-auth'), qr/^failed\|cannot set parameter "session_authorization" within security-definer function/,
	'SET SESSION AUTHORIZATION fails');
job('set-config-role', 'app_worker', q{SELECT set_config('role', 'postgres', false)});
like(run('set-config-role'), qr/^failed\|cannot set parameter "role"/, 'set_config(role) fails');
job('top-level-reset', 'app_worker', q{DO $$BEGIN RESET ROLE; END$$; SELECT 1});
like(run('top-level-reset'), qr/^failed\|cannot set parameter "role"/, 'RESET ROLE fails at top level too');
$node->safe_psql('postgres', q{CREATE PROCEDURE public.esc() LANGUAGE plpgsql AS $$BEGIN COMMIT; RESET ROLE; END$$;
	GRANT EXECUTE ON PROCEDURE public.esc() TO app_worker});
job('procedure-escape', 'app_worker', q{CALL public.esc()});
like(run('procedure-escape'), qr/^failed\|cannot set parameter "role"/, 'nor after a COMMIT inside a procedure');
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.seen WHERE what = 'secret'}), '0', 'no secret was read');

# Nothing leaks from job A to job B in the same worker: settings, temporary
# tables, prepared statements, session advisory locks, cursors.
job('leave-things', 'app_worker', q{
	SET search_path = pg_temp, public; SET work_mem = '7777kB'; SET application_name = 'leaked';
	CREATE TEMP TABLE leftover (v int); INSERT INTO leftover VALUES (1);
	PREPARE leftover_stmt AS SELECT 1;
	SELECT pg_advisory_lock(4242)});
is(run('leave-things'), 'succeeded|', 'job A leaves settings, a temp table, a prepared statement and a lock behind');
job('look-around', 'other_worker', q{
	INSERT INTO public.seen VALUES
	  ('look', 'work_mem', current_setting('work_mem')),
	  ('look', 'search_path', current_setting('search_path')),
	  ('look', 'temp tables', (SELECT count(*)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'pg_temp%' AND c.relname = 'leftover')),
	  ('look', 'prepared', (SELECT count(*)::text FROM pg_prepared_statements)),
	  ('look', 'advisory locks', (SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()))});
is(run('look-around'), 'succeeded|', 'job B, under another role, runs in the same worker');
is($node->safe_psql('postgres', q{SELECT string_agg(what || '=' || value, ', ' ORDER BY what) FROM public.seen WHERE job = 'look'}),
	'advisory locks=0, prepared=0, search_path="$user", public, temp tables=0, work_mem=4MB',
	'job B sees none of it');

# The same holds at top level (a command run outside a batch).
job('leave-top-level', 'app_worker', q{SET work_mem = '9999kB'; CREATE TEMP TABLE t2 (v int); DO $$BEGIN PERFORM pg_advisory_lock(99); END$$});
is(run('leave-top-level'), 'succeeded|', 'a top-level job leaves things behind');
$node->safe_psql('postgres', q{DELETE FROM public.seen WHERE job = 'look'});
is(run('look-around'), 'succeeded|', 'the next job runs');
is($node->safe_psql('postgres', q{SELECT string_agg(what || '=' || value, ', ' ORDER BY what) FROM public.seen WHERE job = 'look'}),
	'advisory locks=0, prepared=0, search_path="$user", public, temp tables=0, work_mem=4MB',
	'and sees none of it either');

# A job whose role was dropped meanwhile fails clearly, without a crash.
$node->safe_psql('postgres', q{CREATE ROLE doomed NOLOGIN; GRANT doomed TO service_role;});
job('orphan', 'doomed', 'SELECT 1');
$node->safe_psql('postgres', q{DROP ROLE doomed});
like(run('orphan'), qr/^failed\|/, 'a job whose role is gone fails');

ok(!$node->log_contains('terminated by signal'), 'no worker crashed');
$node->stop;
done_testing();
