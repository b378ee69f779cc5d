# Running jobs: any command psql -c accepts, its effects committed with its
# record, its log captured, its input visible, and a rolled-back run_job
# running nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use JobconfigTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = JobconfigTest::start_node('runs', max_workers => 2);
$node->safe_psql('postgres', q{
	CREATE TABLE public.events (id serial PRIMARY KEY, note text, input jsonb,
	                            who text DEFAULT current_user, at timestamptz DEFAULT clock_timestamp());
	CREATE TABLE public.big AS SELECT g AS id FROM generate_series(1, 1000) g;
	CREATE PROCEDURE public.two_commits() LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO public.events (note) VALUES ('before commit');
		COMMIT;
		INSERT INTO public.events (note) VALUES ('after commit');
	END $$;
});

# create(job_id, payload): create a job.
sub create
{
	my ($id, $payload) = @_;
	$node->safe_psql('postgres', "SELECT jobconfig.create_job('$id', \$jc\$$payload\$jc\$)");
}

# A manual run sees its input and records succeeded with the command tag.
create('insert-input', q{{"execution": {"command":
	"INSERT INTO public.events (note, input) VALUES ('manual', jobconfig.current_input())"}}});
my $id = JobconfigTest::run_and_wait($node, 'insert-input', '{"order": 42}');
is(JobconfigTest::status_of($node, $id), 'succeeded', 'manual run succeeded');
is($node->safe_psql('postgres', q{SELECT input ->> 'order' FROM public.events WHERE note = 'manual'}),
	'42', 'the job saw its input through jobconfig.current_input()');
is($node->safe_psql('postgres', "SELECT log ->> 'commandTag' || '/' || (log ->> 'rows') FROM jobconfig.job_executions WHERE id = $id"),
	'INSERT 0 1/1', 'command tag and rows are in the log');
is($node->safe_psql('postgres', "SELECT started_at <= finished_at AND duration IS NOT NULL FROM jobconfig.job_executions WHERE id = $id"),
	't', 'start, finish and duration are recorded');

# Messages the job raises are captured, in order, with detail and hint.
create('chatty', q{{"execution": {"command":
	"DO $$BEGIN RAISE NOTICE 'first %', 1; RAISE INFO 'second'; RAISE WARNING 'third' USING DETAIL = 'the detail', HINT = 'the hint'; RAISE LOG 'fourth'; END$$"}}});
$id = JobconfigTest::run_and_wait($node, 'chatty');
is($node->safe_psql('postgres', "SELECT string_agg(m ->> 'level' || ':' || (m ->> 'message'), ',') FROM jobconfig.job_executions, jsonb_array_elements(log -> 'messages') m WHERE id = $id"),
	'NOTICE:first 1,INFO:second,WARNING:third,LOG:fourth', 'NOTICE, INFO, WARNING and LOG are captured in order');
is($node->safe_psql('postgres', "SELECT log -> 'messages' -> 2 ->> 'detail', log -> 'messages' -> 2 ->> 'hint' FROM jobconfig.job_executions WHERE id = $id"),
	'the detail|the hint', 'detail and hint are kept');
ok(!$node->log_contains('first 1'), 'captured messages stay out of the server log');

# An error is recorded with SQLSTATE, message, detail, hint and context,
# and the run's effects are rolled back with it.
create('fails', q{{"execution": {"command":
	"INSERT INTO public.events (note) VALUES ('must not stay'); DO $$BEGIN RAISE EXCEPTION 'broken thing' USING ERRCODE = '22023', DETAIL = 'some detail', HINT = 'some hint'; END$$",
	"retry": {"maxAttempts": 1}}}});
$id = JobconfigTest::run_and_wait($node, 'fails');
is(JobconfigTest::status_of($node, $id), 'failed', 'a failing command is recorded failed');
is($node->safe_psql('postgres', "SELECT concat_ws('|', log #>> '{error,sqlstate}', log #>> '{error,message}', log #>> '{error,detail}', log #>> '{error,hint}', error) FROM jobconfig.job_executions WHERE id = $id"),
	'22023|broken thing|some detail|some hint|broken thing', 'SQLSTATE, message, detail and hint are recorded');
like($node->safe_psql('postgres', "SELECT log #>> '{error,context}' FROM jobconfig.job_executions WHERE id = $id"),
	qr/PL\/pgSQL function inline_code_block/, 'the error context is recorded');
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.events WHERE note = 'must not stay'}),
	'0', 'the failed run left no effect (one implicit transaction, as psql -c)');

# Many short runs at once (they are batched): each has its effect.  (That
# effects and records never part, even across a crash, is t/013_crash.pl.)
create('atomic', q{{"execution": {"command":
	"INSERT INTO public.events (note) VALUES ('atomic'); SELECT pg_sleep(0.01)", "concurrency": "allow"}}});
my @ids = map { $node->safe_psql('postgres', "SELECT jobconfig.run_job('atomic')") } 1 .. 20;
JobconfigTest::wait_until($node,
	"SELECT count(*) = 20 FROM jobconfig.job_executions WHERE job_id = 'atomic' AND status = 'succeeded'");
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.events WHERE note = 'atomic'}),
	'20', 'every succeeded run has its effect');

# Commands that cannot run in a transaction block run as psql -c runs them.
create('vacuum', q{{"execution": {"command": "VACUUM (ANALYZE) public.big"}}});
$id = JobconfigTest::run_and_wait($node, 'vacuum');
is(JobconfigTest::status_of($node, $id), 'succeeded', 'VACUUM runs');
ok($node->safe_psql('postgres', q{SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'big'}) eq 't'
	  || $node->safe_psql('postgres', q{SELECT vacuum_count > 0 FROM pg_stat_user_tables WHERE relname = 'big'}) eq 't',
	'the table was vacuumed');

create('cic', q{{"execution": {"command": "CREATE INDEX CONCURRENTLY big_id_idx ON public.big (id)"}}});
$id = JobconfigTest::run_and_wait($node, 'cic');
is(JobconfigTest::status_of($node, $id), 'succeeded', 'CREATE INDEX CONCURRENTLY runs');
is($node->safe_psql('postgres', q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.big_id_idx'::regclass}),
	't', 'the index is valid');

create('call-commits', q{{"execution": {"command": "CALL public.two_commits()"}}});
$id = JobconfigTest::run_and_wait($node, 'call-commits');
is(JobconfigTest::status_of($node, $id), 'succeeded', 'CALL of a procedure that commits runs');
is($node->safe_psql('postgres', q{SELECT string_agg(note, ',' ORDER BY id) FROM public.events WHERE note LIKE '%commit'}),
	'before commit,after commit', 'both of its transactions committed');

create('explicit-block', q{{"execution": {"command":
	"BEGIN; INSERT INTO public.events (note) VALUES ('in block'); COMMIT; INSERT INTO public.events (note) VALUES ('after block')"}}});
$id = JobconfigTest::run_and_wait($node, 'explicit-block');
is(JobconfigTest::status_of($node, $id), 'succeeded', 'explicit BEGIN/COMMIT in a command');
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.events WHERE note IN ('in block', 'after block')}),
	'2', 'both statements took effect');

create('vacuum-in-block', q{{"execution": {"command": "SELECT 1; VACUUM public.big", "retry": {"maxAttempts": 1}}}});
$id = JobconfigTest::run_and_wait($node, 'vacuum-in-block');
is($node->safe_psql('postgres', "SELECT status || ': ' || error FROM jobconfig.job_executions WHERE id = $id"),
	'failed: VACUUM cannot run inside a transaction block',
	'VACUUM after another statement fails as it does under psql -c');

# A syntax error is a failed run, not a crash of the worker.
create('syntax', q{{"execution": {"command": "SELEKT 1", "retry": {"maxAttempts": 1}}}});
$id = JobconfigTest::run_and_wait($node, 'syntax');
is($node->safe_psql('postgres', "SELECT status || ' ' || (log #>> '{error,sqlstate}') FROM jobconfig.job_executions WHERE id = $id"),
	'failed 42601', 'a syntax error is recorded with its SQLSTATE');

# A run_job that rolls back runs nothing.
$node->safe_psql('postgres', q{BEGIN; SELECT jobconfig.run_job('insert-input', '{"rolled": "back"}'); ROLLBACK;});
JobconfigTest::run_and_wait($node, 'insert-input', '{"after": "rollback"}');
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.events WHERE input ? 'rolled'}),
	'0', 'a rolled-back run_job ran nothing');

# pg_stat_activity shows the run in progress, with its job and role.
create('sleeper', q{{"execution": {"command": "SELECT pg_sleep(30)", "retry": {"maxAttempts": 1}}}});
$id = $node->safe_psql('postgres', "SELECT jobconfig.run_job('sleeper')");
JobconfigTest::wait_until($node,
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'jobconfig executor' AND query LIKE 'jobconfig job sleeper%'});
like($node->safe_psql('postgres', q{SELECT query FROM pg_stat_activity WHERE backend_type = 'jobconfig executor' AND query LIKE 'jobconfig job sleeper%'}),
	qr/^jobconfig job sleeper \(execution \d+, attempt 1\) as postgres: SELECT pg_sleep\(30\)$/,
	'pg_stat_activity shows the job, its execution, its role and its command');

# cancel_execution stops it.
is($node->safe_psql('postgres', "SELECT jobconfig.cancel_execution($id)"), 't', 'cancel_execution accepts a running run');
JobconfigTest::wait_until($node, "SELECT status = 'cancelled' FROM jobconfig.job_executions WHERE id = $id");
is($node->safe_psql('postgres', "SELECT error FROM jobconfig.job_executions WHERE id = $id"),
	'cancelled by postgres while running', 'a cancelled run says who cancelled it');

# The log is bounded by jobconfig.log_max_bytes.
$node->safe_psql('postgres', q{ALTER SYSTEM SET jobconfig.log_max_bytes = 2048; SELECT pg_reload_conf();});
create('loud', q{{"execution": {"command": "DO $$BEGIN FOR i IN 1..500 LOOP RAISE NOTICE 'line %', i; END LOOP; END$$"}}});
$id = JobconfigTest::run_and_wait($node, 'loud');
is($node->safe_psql('postgres', "SELECT (log ->> 'truncated') || ' ' || ((log ->> 'droppedMessages')::int > 400)::text || ' ' || (length((log -> 'messages')::text) <= 2048)::text FROM jobconfig.job_executions WHERE id = $id"),
	'true true true', 'a long log is truncated at log_max_bytes and says so');

# Settings reloaded while a deep queue drains, each executor going from
# batch to batch without a pause: no worker crashes, and every run
# succeeds once.
create('reloaded', q{{"execution": {"command":
	"INSERT INTO public.events (note) VALUES ('reloaded')", "concurrency": "allow"}}});
$node->safe_psql('postgres', q{SELECT count(jobconfig.run_job('reloaded')) FROM generate_series(1, 10000)});
my $reloads = 0;
while ($node->safe_psql('postgres', q{
	SELECT count(*) FROM jobconfig.job_executions, pg_reload_conf()
	 WHERE job_id = 'reloaded' AND status IN ('queued', 'running')}) > 0)
{
	$reloads++;
}
ok($reloads > 0, "settings reloaded $reloads times while the queue drained");
is($node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE status = 'succeeded') || '/' ||
	       (SELECT count(*) FROM public.events WHERE note = 'reloaded')
	  FROM jobconfig.job_executions WHERE job_id = 'reloaded'}),
	'10000/10000', 'every run drained across the reloads succeeded once, with its effect');

# The workers pass on their table statistics, from which autovacuum
# decides: each of those runs was updated twice (claimed, then ended), and
# the counters show it while the executors live on.
ok(JobconfigTest::wait_until($node, q{
	SELECT n_tup_upd >= 20000 FROM pg_stat_user_tables
	 WHERE relid = 'jobconfig.job_executions'::regclass}),
	'the executors\' updates of job_executions reach pg_stat_user_tables');

# No executor died along the way.
ok(!$node->log_contains('terminated by signal'), 'no worker crashed');

$node->stop;
done_testing();
