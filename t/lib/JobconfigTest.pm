# JobconfigTest: what the TAP tests share.
#
#   my $node = JobconfigTest::start_node('main', max_workers => 2);
#
# starts a throwaway cluster with jobconfig preloaded and the extension
# created in database "postgres", plus the Supabase-style roles.
package JobconfigTest;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# start_node(name, max_workers => N, conf => 'extra lines', allows_streaming => 1)
sub start_node
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => $opts{allows_streaming} ? 1 : 0);
	my $workers = $opts{max_workers} // 2;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'jobconfig'
jobconfig.max_workers = $workers
max_worker_processes = 16
log_min_messages = info
restart_after_crash = on
});
	$node->append_conf('postgresql.conf', $opts{conf}) if $opts{conf};
	$node->start;
	$node->safe_psql('postgres', q{
		CREATE ROLE anon NOLOGIN;
		CREATE ROLE authenticated NOLOGIN;
		CREATE ROLE service_role NOLOGIN;
		CREATE EXTENSION jobconfig;
	}) unless $opts{no_extension};
	wait_for_workers($node, $workers) unless $opts{no_extension};
	return $node;
}

# wait_for_workers(node, executors): the scheduler and its executors run.
sub wait_for_workers
{
	my ($node, $executors, $db) = @_;
	$db //= 'postgres';
	$node->poll_query_until($db, qq{
		SELECT count(*) = $executors + 1 FROM pg_stat_activity
		 WHERE backend_type IN ('jobconfig scheduler', 'jobconfig executor')
		   AND datname = current_database()})
	  or die "jobconfig workers did not start";
}

# wait_until(node, sql, timeout_s): poll until the query returns 't'.
sub wait_until
{
	my ($node, $sql, $db) = @_;
	return $node->poll_query_until($db // 'postgres', $sql);
}

# status_of(node, execution_id): the status of an execution.
sub status_of
{
	my ($node, $id, $db) = @_;
	return $node->safe_psql($db // 'postgres',
		"SELECT status FROM jobconfig.job_executions WHERE id = $id");
}

# run_and_wait(node, job_id, input_json): run_job, wait for the run to
# end, return its execution id.
sub run_and_wait
{
	my ($node, $job, $input, $db) = @_;
	$input = defined $input ? "'$input'" : 'NULL';
	my $id = $node->safe_psql($db // 'postgres', "SELECT jobconfig.run_job('$job', $input)");
	wait_until($node,
		"SELECT status NOT IN ('queued', 'running') FROM jobconfig.job_executions WHERE id = $id", $db)
	  or die "execution $id of $job did not end";
	return $id;
}

1;
