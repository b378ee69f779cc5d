# The function surface: every function of the extension, found in the
# catalog (so a function added later is covered without a word here), is
# called as anon, a reader, a writer and a superuser, with valid arguments,
# with a null in each argument in turn and with hostile values of each
# argument's type.  Nothing may crash a backend, raise an internal error
# or run into the statement timeout; a null where a value is needed is
# refused by name (22004); and the grants are what README's SQL API tables
# say: the API and the internal functions listed there are executable by
# every role, every other function by superusers only.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use JobconfigTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# README's SQL API section: the table of the API ("function | returns |
# who may call it") and the table of internal functions every role may
# execute ("internal function | ...").
my (%who, %callable_internal);
{
	open my $readme, '<', "$FindBin::RealBin/../README.md" or die "README.md: $!";
	my ($in_section, $table) = (0, '');
	while (my $line = <$readme>)
	{
		if ($line =~ /^## /)
		{
			$in_section = $line =~ /^## SQL API\s*$/;
			next;
		}
		next unless $in_section && $line =~ /^\|/;
		$line =~ s/^\||\|\s*$//g;
		my @cells = map { s/^\s+|\s+$//gr } split /\|/, $line;
		if ($cells[0] =~ /^(function|internal function)$/)
		{
			$table = $1;
			next;
		}
		next if $cells[0] =~ /^-+$/;
		for my $name ($cells[0] =~ /`(\w+)\(/g)
		{
			if ($table eq 'function') { $who{$name} = $cells[-1] }
			elsif ($table eq 'internal function') { $callable_internal{$name} = 1 }
		}
	}
}
ok(%who && %callable_internal, "README's SQL API section has both tables")
  or BAIL_OUT('no function tables in README.md');
for my $name (sort keys %who)
{
	like($who{$name}, qr/^(anyone|readers|writers)$/, "README: who may call $name");
}

my $node = JobconfigTest::start_node('surface', max_workers => 1);

# The roles a call is made as -- anon (no rights: JobconfigTest creates it
# bare), a reader, a writer and the superuser the test connects as -- and
# which kinds of function each may call.
my $superuser = $node->safe_psql('postgres', 'SELECT current_user');
my @roles = ('anon', 'authenticated', 'service_role', $superuser);
my %may_call = (
	anyone => {map { $_ => 1 } @roles},
	readers => {authenticated => 1, service_role => 1, $superuser => 1},
	writers => {service_role => 1, $superuser => 1},
	internal => {$superuser => 1},
);

# Jobs and a finished execution the valid arguments name.
$node->safe_psql('postgres', q{
	CREATE ROLE fs_worker NOLOGIN;
	GRANT fs_worker TO service_role;
	SET ROLE service_role;
	SELECT jobconfig.create_job('fs-manual', '{"execution": {"command": "SELECT 1", "runAs": "fs_worker"},
		"notifications": {"slack": {"webhookUrl": "https://hooks.example.com/T/B/x"}, "includeLogs": true}}');
	SELECT jobconfig.create_job('fs-hook', '{"trigger": {"type": "webhook",
		"webhook": {"path": "fs-hook", "secret": "0123456789abcdef0123"}},
		"execution": {"command": "SELECT 1", "runAs": "fs_worker"}}');
	SELECT jobconfig.create_job('fs-schedule', '{"trigger": {"type": "schedule",
		"schedule": {"cron": "0 3 * * *", "timezone": "Europe/Berlin"}},
		"execution": {"command": "SELECT 1", "runAs": "fs_worker"}}');
});
my $execution = $node->safe_psql('postgres', q{
	SET ROLE service_role;
	SELECT jobconfig.record_job_execution('fs-manual', 'failed', error => 'boom',
		log => '{"messages": [{"level": "WARNING", "message": "careful"}], "commandTag": "SELECT"}')});

# Valid values: by "function.argument", else by argument name, else by type.
my %valid = (
	'create_job.job_id' => q{'fs-new'},
	job_id => q{'fs-manual'},
	payload => q{'{"execution": {"command": "SELECT 2"}}'},
	meta => q{'{"title": "A job"}'},
	enabled => 'false',
	input => q{'{"n": 1}'},
	execution_id => $execution,
	execution_ids => "ARRAY[$execution]",
	trigger_type => q{'manual'},
	status => q{'succeeded'},
	error => q{'boom'},
	log => q{'{"messages": [], "commandTag": "SELECT"}'},
	trigger_source => q{'manual'},
	attempt => '1',
	max_rows => '5',
	message => q{'a note'},
	path => q{'fs-hook'},
	body => q{'{"ref": "main"}'},
	signature => q{'sha256=' || repeat('0', 64)},
	timestamp => q{extract(epoch FROM pg_catalog.now())::bigint::text},
	schedule => q{'*/5 * * * *'},
	timezone => q{'Europe/Berlin'},
	count => '3',
	action => q{'do this'},
	retry => q{'{"maxAttempts": 3, "initialDelaySeconds": 10, "backoffMultiplier": 2, "maxDelaySeconds": 60, "jitter": true}'},
	wanted => q{'success'},
	value => q{'a < b & c'},
	channel => q{'slack'},
	run => "(SELECT e FROM jobconfig.job_executions e WHERE e.id = $execution)",
	job => q{(SELECT j FROM jobconfig.job_configs j WHERE j.job_id = 'fs-manual')},
	'type:text' => q{'x'},
	'type:integer' => '1',
	'type:bigint' => '1',
	'type:boolean' => 'true',
	'type:jsonb' => q{'{}'},
	'type:timestamp with time zone' => 'pg_catalog.now()',
	'type:bigint[]' => "ARRAY[$execution]",
	'type:jobconfig.job_executions' => '(SELECT e FROM jobconfig.job_executions e LIMIT 1)',
	'type:jobconfig.job_configs' => '(SELECT j FROM jobconfig.job_configs j LIMIT 1)',
);

# Hostile values by type: [label, expression].
my $deep_array = q{(pg_catalog.repeat('[', 3000) || pg_catalog.repeat(']', 3000))::jsonb};
my $deep_object = q{(pg_catalog.repeat('{"a": ', 3000) || '1' || pg_catalog.repeat('}', 3000))::jsonb};
my %hostile = (
	text => [
		['empty', q{''}],
		['blank', q{' '}],
		['a byte over 1 MB', q{pg_catalog.repeat('x', 1048577)}],
		['100,000 multibyte characters', q{pg_catalog.repeat('é', 100000)}],
		['5,000 fields', q{pg_catalog.repeat('* ', 5000)}],
		['format directives and quotes', q{E'%s%n%x%% \\' " ; DROP TABLE x; --'}],
		['control characters', q{E'\\u0001\\t\\n\\r\\u007f'}],
		['@reboot', q{'@reboot'}],
		['a date that never occurs', q{'0 0 30 2 *'}],
		['a rare date', q{'0 0 29 2 1'}],
		['59 seconds', q{'59 seconds'}],
		['an unknown zone', q{'Mars/Olympus_Mons'}],
	],
	integer => [map { [$_, "$_"] } qw(0 -1 10000 -2147483648 2147483647)],
	bigint => [map { [$_, "$_"] } qw(0 -1 -9223372036854775808 9223372036854775807)],
	boolean => [['false', 'false']],
	'timestamp with time zone' => [
		['infinity', q{'infinity'}],
		['-infinity', q{'-infinity'}],
		['the earliest', q{'4714-11-24 00:00:00+00 BC'}],
		['the latest', q{'294276-12-31 23:59:59+00'}],
	],
	jsonb => [
		['null', q{'null'}],
		['[]', q{'[]'}],
		['{}', q{'{}'}],
		['a string', q{'"x"'}],
		['a huge number', q{'1e1000'}],
		['3,000 nested arrays', $deep_array],
		['3,000 nested objects', $deep_object],
		['20,000 keys', q{(SELECT pg_catalog.jsonb_object_agg('k' || i, i) FROM pg_catalog.generate_series(1, 20000) i)}],
		['extreme numbers in a payload', q{'{"execution": {"command": "SELECT 1", "priority": -1e-300,
			"timeoutSeconds": 1e300, "retry": {"maxAttempts": 1e300, "initialDelaySeconds": -0,
			"backoffMultiplier": 1e308, "maxDelaySeconds": 1e308}}}'}],
		['nulls everywhere', q{'{"enabled": null, "trigger": null, "execution": {"command": null, "retry": null}, "messages": [null], "error": null}'}],
		['a deep value in a payload', q{jsonb_build_object('execution', jsonb_build_object('command', 'SELECT 1'), 'notifications', }
			. $deep_object . ')'],
		['a deep log', q{jsonb_build_object('messages', }
			. $deep_array . q{, 'error', jsonb_build_object('sqlstate', repeat('x', 100000)))}],
	],
	'bigint[]' => [
		['{}', q{'{}'}],
		['{NULL}', q{'{NULL}'}],
		['{1,NULL,-1}', q{'{1,NULL,-1}'}],
		['two dimensions', q{'{{1,2},{3,4}}'}],
		['an odd lower bound', q{'[-2147483648:-2147483648]={1}'}],
		['100,000 elements', q{(SELECT pg_catalog.array_agg(i) FROM pg_catalog.generate_series(1, 100000) i)}],
	],
	'jobconfig.job_executions' => [
		['all fields null', q{pg_catalog.jsonb_populate_record(NULL::jobconfig.job_executions, '{}')}],
		['odd fields', q{pg_catalog.jsonb_populate_record(NULL::jobconfig.job_executions,
			'{"id": -1, "job_id": "", "status": "failed", "attempt": 2147483647,
			  "log": {"messages": [{"level": null}], "droppedMessages": 2147483647}}')}],
	],
	'jobconfig.job_configs' => [
		['all fields null', q{pg_catalog.jsonb_populate_record(NULL::jobconfig.job_configs, '{}')}],
		['odd fields', q{pg_catalog.jsonb_populate_record(NULL::jobconfig.job_configs,
			'{"job_id": "", "payload": {"execution": {"retry": {"maxAttempts": 1e300}}}, "meta": {"title": 5}}')}],
	],
);

# What a call with valid arguments answers when it is not a success (for
# each role, or for the roles not named), and the documented answers to a
# null that are not 22004.
my %valid_outcome = (
	job_not_found => {any => '42704'},    # it only raises
	receive_webhook => {any => '28000'},  # the valid-looking signature is wrong
	require_reader => {anon => '42501'},
	require_writer => {anon => '42501', authenticated => '42501'},
	# no cancellation asked for in this transaction
	interrupt_at_commit => {anon => '42501', authenticated => '42501', any => '55000'},
);
# The same for a call that leaves out the optional arguments.
my %defaults_outcome = (
	update_job => {any => '22004'},       # it needs a payload or a meta
);
my %null_outcome = (
	'receive_webhook.path' => '28000',         # README, Webhooks: refused as a wrong call
	'receive_webhook.signature' => '28000',
);

# The extension's functions and their input arguments, from the catalog.
my %functions;
for my $row (split /\n/, $node->safe_psql('postgres', q{
	SELECT p.proname, p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype, p.proisstrict,
	       coalesce(a.pos, 0), coalesce(a.name, ''), coalesce(pg_catalog.format_type(a.typ, NULL), ''),
	       coalesce(pg_catalog.pg_get_function_arg_default(p.oid, a.ord::integer), ''),
	       pg_catalog.has_function_privilege('anon', p.oid, 'EXECUTE'),
	       pg_catalog.has_function_privilege('authenticated', p.oid, 'EXECUTE'),
	       pg_catalog.has_function_privilege('service_role', p.oid, 'EXECUTE')
	  FROM pg_catalog.pg_proc p
	  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
	   AND d.objid = p.oid AND d.deptype = 'e'
	  JOIN pg_catalog.pg_extension x ON x.oid = d.refobjid AND x.extname = 'jobconfig'
	  LEFT JOIN LATERAL (
	       SELECT pg_catalog.row_number() OVER (ORDER BY u.ord) AS pos, u.typ, u.name, u.ord
	         FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]), p.proargnames, p.proargmodes)
	              WITH ORDINALITY AS u(typ, name, mode, ord)
	        WHERE coalesce(u.mode, 'i') IN ('i', 'b', 'v')) AS a ON true
	 ORDER BY p.proname, a.pos}))
{
	my ($name, $trigger, $strict, $pos, $arg, $type, $default, @grants) = split /\|/, $row, -1;
	my $f = $functions{$name} //= {
		name => $name, trigger => $trigger eq 't', strict => $strict eq 't', args => [],
		executable => {anon => $grants[0], authenticated => $grants[1], service_role => $grants[2]},
	};
	push @{ $f->{args} }, {name => $arg, type => $type, default => $default} if $pos > 0;
}
ok(scalar(keys %functions) > 30, scalar(keys %functions) . ' functions in the extension');

# Which kind each function is: anyone, readers, writers (the API), callable
# (internal, executable by every role) or internal.
sub kind_of
{
	my ($f) = @_;
	return $who{ $f->{name} } // ($callable_internal{ $f->{name} } ? 'callable' : 'internal');
}

# The grants are README's tables, and nothing is STRICT.
for my $name (sort(keys %who), sort(keys %callable_internal))
{
	ok($functions{$name}, "README names $name, which exists");
}
for my $f (map { $functions{$_} } sort keys %functions)
{
	my $public = kind_of($f) ne 'internal';
	for my $role (qw(anon authenticated service_role))
	{
		is($f->{executable}{$role}, $public ? 't' : 'f',
			"$f->{name} is " . ($public ? '' : 'not ') . "executable by $role");
	}
	ok(!$f->{strict}, "$f->{name} is not STRICT");
}

# The calls.  Each is one statement of one session, run by fs.try as the
# role, in a subtransaction that is always rolled back, which records its
# SQLSTATE (null: it succeeded) and the backend's pid.
my @calls;
sub value_of
{
	my ($f, $arg) = @_;
	my $v = $valid{"$f->{name}.$arg->{name}"} // $valid{ $arg->{name} } // $valid{"type:$arg->{type}"};
	die "no valid value for argument $arg->{name} ($arg->{type}) of $f->{name}: add one" unless defined $v;
	return $v;
}
sub call_of
{
	my ($f, @values) = @_;
	my @typed = map { "($values[$_])::$f->{args}[$_]{type}" } 0 .. $#values;
	return "SELECT pg_catalog.count(*) FROM jobconfig.$f->{name}(" . join(', ', @typed) . ')';
}
for my $f (map { $functions{$_} } sort keys %functions)
{
	next if $f->{trigger};    # PostgreSQL calls these only as triggers
	my @args = @{ $f->{args} };
	my @required = grep { $_->{default} eq '' } @args;
	my @valid = map { value_of($f, $_) } @args;
	for my $role (@roles)
	{
		push @calls, {f => $f, role => $role, kind => 'valid', sql => call_of($f, @valid)};
		push @calls, {f => $f, role => $role, kind => 'defaults',
			sql => call_of($f, @valid[0 .. $#required])} if @required < @args;
		for my $i (0 .. $#args)
		{
			my @values = @valid;
			$values[$i] = 'NULL';
			push @calls, {f => $f, role => $role, kind => "$args[$i]{name}: null", null => 1,
				arg => $args[$i], sql => call_of($f, @values)};
			my $hostile = $hostile{ $args[$i]{type} }
			  or die "no hostile values for type $args[$i]{type} (of $f->{name}): add some";
			for my $h (@$hostile)
			{
				$values[$i] = $h->[1];
				push @calls, {f => $f, role => $role, kind => "$args[$i]{name}: $h->[0]",
					arg => $args[$i], sql => call_of($f, @values)};
			}
		}
	}
}

$node->safe_psql('postgres', q{
	CREATE SCHEMA fs;
	CREATE TABLE fs.results (n integer PRIMARY KEY, sqlstate text, message text, pid integer);
	CREATE FUNCTION fs.try(n integer, role text, call text) RETURNS void
	    LANGUAGE plpgsql AS $$
	DECLARE
	    state text;
	    message text;
	BEGIN
	    BEGIN
	        PERFORM pg_catalog.set_config('role', role, true);
	        EXECUTE call;
	        RAISE EXCEPTION 'succeeded' USING ERRCODE = 'JCT00';
	    EXCEPTION
	        WHEN query_canceled THEN
	            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
	        WHEN OTHERS THEN
	            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
	    END;
	    INSERT INTO fs.results
	    VALUES (n, nullif(state, 'JCT00'), pg_catalog."left"(message, 200), pg_catalog.pg_backend_pid());
	END $$;
});
my $started = $node->safe_psql('postgres', 'SELECT pg_catalog.pg_postmaster_start_time()');

# One session runs every call.  Errors are the point: keep them out of the
# server log, whose lines about crashed processes are looked for below.
my $script = q{
SET client_min_messages = warning;
SET log_min_messages = fatal;
SET log_min_error_statement = panic;
SET statement_timeout = '20s';
};
for my $n (0 .. $#calls)
{
	die "a call holds \$fs\$" if $calls[$n]{sql} =~ /\$fs\$/;
	$script .= "SELECT fs.try($n, '$calls[$n]{role}', \$fs\$$calls[$n]{sql}\$fs\$);\n";
}
# From a file: a backend that crashes takes psql with it, and psql would
# leave the rest of a script on its standard input unread.
my $file = "${PostgreSQL::Test::Utils::tmp_check}/function_surface.sql";
PostgreSQL::Test::Utils::append_to_file($file, $script);
my ($stdout, $stderr);
my $rc = $node->psql('postgres', "\\i $file", stdout => \$stdout, stderr => \$stderr,
	on_error_stop => 0);
is($rc, 0, scalar(@calls) . ' calls ran in one session') or diag($stderr);
# (After a crash, once the server takes connections again.)
$node->poll_query_until('postgres', 'SELECT true') or die 'the server does not come back';

# Nothing crashed: the session lasted, the server did not restart.
my %result;
for my $row (split /\n/, $node->safe_psql('postgres',
		q{SELECT n, coalesce(sqlstate, ''), replace(coalesce(message, ''), E'\n', ' '), pid FROM fs.results}))
{
	my ($n, $state, $message, $pid) = split /\|/, $row, 4;
	$result{$n} = {state => $state, message => $message, pid => $pid};
}
my @missing = grep { !$result{$_} } 0 .. $#calls;
is(scalar(@missing), 0, 'every call returned')
  or diag("first call that did not: $calls[$missing[0]]{f}{name} as $calls[$missing[0]]{role} ($calls[$missing[0]]{kind}): $calls[$missing[0]]{sql}");
my %pids = map { $_->{pid} => 1 } values %result;
is(scalar(keys %pids), 1, 'all in the same backend');
is($node->safe_psql('postgres', 'SELECT pg_catalog.pg_postmaster_start_time()'), $started,
	'the server did not restart');
my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile);
ok($log !~ /was terminated by signal|terminating any other active server processes/,
	'no server process was terminated')
  or diag(join("\n", $log =~ /^.*(?:terminated by signal|Failed process was running).*$/mg));

# What each call answered.
my (@internal_errors, @timeouts, @malformed, @wrong);
for my $n (sort { $a <=> $b } keys %result)
{
	my ($call, $r) = ($calls[$n], $result{$n});
	my ($f, $role, $kind) = ($call->{f}, $call->{role}, $call->{kind});
	my $state = $r->{state};
	my $what = "$f->{name} as $role ($kind): " . ($state || 'success') . " $r->{message}";

	push @internal_errors, $what if $state =~ /^(XX|P000)/;
	push @timeouts, $what if $state eq '57014';
	# The call itself is wrong: a syntax error, no such function or cast.
	push @malformed, "$what: $call->{sql}" if $state =~ /^(42601|42883|42846|42804)$/;

	my $class = kind_of($f);
	if (!$may_call{ $class eq 'callable' ? 'anyone' : $class }{$role})
	{
		# A function this role may not use refuses it before anything else.
		push @wrong, "$what (expected 42501)" unless $state eq '42501';
		next;
	}
	if ($kind eq 'valid' || $kind eq 'defaults')
	{
		my $outcome = ($kind eq 'valid' ? \%valid_outcome : \%defaults_outcome)->{ $f->{name} }
		  // $valid_outcome{ $f->{name} } // {};
		my $expected = $outcome->{$role} // $outcome->{any} // '';
		push @wrong, "$what (expected " . ($expected || 'success') . ')' unless $state eq $expected;
	}
	elsif ($call->{null} && $class ne 'internal' && $call->{arg}{default} !~ /^NULL::/)
	{
		# A required argument, or an optional one whose default is a value.
		my $expected = $null_outcome{"$f->{name}.$call->{arg}{name}"} // '22004';
		push @wrong, "$what (expected $expected)"
		  unless $state eq $expected
		  && ($expected ne '22004' || $r->{message} =~ /\b\Q$call->{arg}{name}\E must not be null$/);
	}
}
my %by_state;
$by_state{ $_->{state} || 'success' }++ for values %result;
note('answers: ' . join(', ', map { "$_ $by_state{$_}" } sort keys %by_state));
is(scalar(@internal_errors), 0, 'no call raised an internal error')
  or diag(join("\n", @internal_errors));
is(scalar(@timeouts), 0, 'no call ran into the statement timeout')
  or diag(join("\n", @timeouts));
is(scalar(@malformed), 0, 'every call was well-formed SQL')
  or diag(join("\n", @malformed));
is(scalar(@wrong), 0, 'refusals and nulls answered as documented')
  or diag(join("\n", @wrong));

# JOBCONFIG_SURFACE_DUMP=1: every call's answer, to see what a change did.
if ($ENV{JOBCONFIG_SURFACE_DUMP})
{
	for my $n (sort { $a <=> $b } keys %result)
	{
		note(join('|', $calls[$n]{f}{name}, $calls[$n]{role}, $calls[$n]{kind},
			$result{$n}{state} || 'success', $result{$n}{message}));
	}
}
$node->stop;
done_testing();
