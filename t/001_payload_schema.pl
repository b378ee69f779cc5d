# payload_schema() against a real JSON Schema validator (python3-jsonschema,
# draft 2020-12): every payload the server stores is valid under it, and
# every payload the server refuses for a reason a static schema can express
# is invalid under it too.
use strict;
use warnings;
use FindBin;
use JSON::PP;
use IPC::Run qw(run);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('schema');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'jobconfig'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION jobconfig');

my $json = JSON::PP->new->canonical;

# schema_verdicts(@documents): "valid" or "invalid: ..." for each document.
sub schema_verdicts
{
	my @documents = @_;
	my $schema = $node->safe_psql('postgres', 'SELECT jobconfig.payload_schema()');
	my $request = '{"schema":' . $schema . ',"documents":[' . join(',', @documents) . ']}';
	my ($out, $err);
	run([ '/usr/bin/python3', "$FindBin::RealBin/schema_check.py" ], \$request, \$out, \$err)
	  or die "schema_check.py failed: $err";
	return split /\n/, $out;
}

# Jobs of every kind, from minimal to fully spelled out.
my %jobs = (
	'minimal-manual' => '{"execution": {"command": "SELECT 1"}}',
	'minimal-schedule' => '{"trigger": {"type": "schedule", "schedule": {"cron": "*/5 * * * *"}}, "execution": {"command": "SELECT 1"}}',
	'minimal-webhook' => '{"trigger": {"type": "webhook", "webhook": {"path": "minimal", "secret": "0123456789abcdef"}}, "execution": {"command": "SELECT 1"}}',
	'body-signed-webhook' => '{"trigger": {"type": "webhook", "webhook": {"path": "github", "secret": "0123456789abcdef", "signature": "body"}}, "execution": {"command": "SELECT 1"}}',
	'minimal-dependency' => '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["minimal-manual"]}}, "execution": {"command": "SELECT 1"}}',
	'full' => '{"enabled": false,
		"trigger": {"type": "schedule", "schedule": {"cron": "0 4 * * mon-fri", "timezone": "America/New_York"}},
		"execution": {"command": "VACUUM ANALYZE", "runAs": "postgres", "priority": 100, "timeoutSeconds": 86400,
			"retry": {"maxAttempts": 100, "initialDelaySeconds": 0, "backoffMultiplier": 1.5, "maxDelaySeconds": 604800, "jitter": false},
			"concurrency": "replace", "missedRuns": "all"},
		"notifications": {"email": {"recipients": ["ops@example.com", "first.last+tag@sub.example.org"], "onFailure": true, "onSuccess": true},
			"slack": {"webhookUrl": "https://hooks.slack.com/services/T00/B00/XXXX", "onFailure": false, "onSuccess": true},
			"includeLogs": false}}',
);
for my $id (sort { $a eq 'minimal-dependency' ? 1 : $b eq 'minimal-dependency' ? -1 : $a cmp $b } keys %jobs)
{
	$node->safe_psql('postgres', "SELECT jobconfig.create_job('$id', \$\$$jobs{$id}\$\$)");
}

my @stored = split /\n/,
  $node->safe_psql('postgres', 'SELECT payload FROM jobconfig.job_configs ORDER BY job_id');
is(scalar(@stored), 6, 'six jobs stored');
my @verdicts = schema_verdicts(@stored);
is($verdicts[$_], 'valid', "stored payload $_ is valid under the schema") for 0 .. $#stored;

# The defaults the schema announces are the ones the server stores.
my $schema = decode_json($node->safe_psql('postgres', 'SELECT jobconfig.payload_schema()'));
my $minimal = decode_json($node->safe_psql('postgres',
	"SELECT payload FROM jobconfig.job_configs WHERE job_id = 'minimal-manual'"));
my $checked = 0;
sub compare_defaults
{
	my ($node_schema, $doc, $path) = @_;
	my $props = $node_schema->{properties} or return;
	for my $key (sort keys %$props)
	{
		my $sub = $props->{$key};
		next unless defined $doc && exists $doc->{$key};
		if (exists $sub->{default} && ref($sub->{default}) ne 'HASH')
		{
			is($json->encode([ $doc->{$key} ]), $json->encode([ $sub->{default} ]),
				"default of $path.$key is what the server stores");
			$checked++;
		}
		compare_defaults($sub, $doc->{$key}, "$path.$key") if ref $doc->{$key} eq 'HASH';
	}
}
compare_defaults($schema, $minimal, 'payload');
cmp_ok($checked, '>=', 12, 'defaults compared');

# Broken payloads: refused by the server with 22023, and invalid under the
# schema unless only the server can know (marked server_only).
my @broken = (
	[ 'cron minute 60', '{"trigger": {"type": "schedule", "schedule": {"cron": "60 * * * *"}}, "execution": {"command": "x"}}' ],
	[ 'cron hour 24', '{"trigger": {"type": "schedule", "schedule": {"cron": "0 24 * * *"}}, "execution": {"command": "x"}}' ],
	[ 'cron four fields', '{"trigger": {"type": "schedule", "schedule": {"cron": "* * * *"}}, "execution": {"command": "x"}}' ],
	[ 'cron month 13', '{"trigger": {"type": "schedule", "schedule": {"cron": "0 0 1 13 *"}}, "execution": {"command": "x"}}' ],
	[ 'cron day name typo', '{"trigger": {"type": "schedule", "schedule": {"cron": "0 0 * * mnd"}}, "execution": {"command": "x"}}' ],
	[ 'cron 0 seconds', '{"trigger": {"type": "schedule", "schedule": {"cron": "0 seconds"}}, "execution": {"command": "x"}}' ],
	[ 'cron 60 seconds', '{"trigger": {"type": "schedule", "schedule": {"cron": "60 seconds"}}, "execution": {"command": "x"}}' ],
	[ 'unknown alias', '{"trigger": {"type": "schedule", "schedule": {"cron": "@fortnightly"}}, "execution": {"command": "x"}}' ],
	[ 'zone typo', '{"trigger": {"type": "schedule", "schedule": {"cron": "@daily", "timezone": "Europe/Berln"}}, "execution": {"command": "x"}}' ],
	[ 'zone offset', '{"trigger": {"type": "schedule", "schedule": {"cron": "@daily", "timezone": "+02:00"}}, "execution": {"command": "x"}}' ],
	[ 'trigger type case', '{"trigger": {"type": "Manual"}, "execution": {"command": "x"}}' ],
	[ 'schedule section missing', '{"trigger": {"type": "schedule"}, "execution": {"command": "x"}}' ],
	[ 'webhook section on manual', '{"trigger": {"type": "manual", "webhook": {"path": "p", "secret": "0123456789abcdef"}}, "execution": {"command": "x"}}' ],
	[ 'webhook path with slash', '{"trigger": {"type": "webhook", "webhook": {"path": "a/b", "secret": "0123456789abcdef"}}, "execution": {"command": "x"}}' ],
	[ 'webhook secret short', '{"trigger": {"type": "webhook", "webhook": {"path": "ab", "secret": "0123"}}, "execution": {"command": "x"}}' ],
	[ 'webhook tolerance 0', '{"trigger": {"type": "webhook", "webhook": {"path": "ab", "secret": "0123456789abcdef", "toleranceSeconds": 0}}, "execution": {"command": "x"}}' ],
	[ 'webhook signature scheme', '{"trigger": {"type": "webhook", "webhook": {"path": "ab", "secret": "0123456789abcdef", "signature": "both"}}, "execution": {"command": "x"}}' ],
	[ 'webhook tolerance without timestamp', '{"trigger": {"type": "webhook", "webhook": {"path": "ab", "secret": "0123456789abcdef", "signature": "body", "toleranceSeconds": 300}}, "execution": {"command": "x"}}' ],
	[ 'dependency empty', '{"trigger": {"type": "dependency", "dependency": {"jobIds": []}}, "execution": {"command": "x"}}' ],
	[ 'dependency bad id', '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["UPPER"]}}, "execution": {"command": "x"}}' ],
	[ 'dependency repeated', '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["full", "full"]}}, "execution": {"command": "x"}}' ],
	[ 'dependency on', '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["full"], "on": "always"}}, "execution": {"command": "x"}}' ],
	[ 'command missing', '{"execution": {"priority": 1}}' ],
	[ 'command empty', '{"execution": {"command": ""}}' ],
	[ 'priority float', '{"execution": {"command": "x", "priority": 5.5}}' ],
	[ 'priority string', '{"execution": {"command": "x", "priority": "5"}}' ],
	[ 'timeout huge', '{"execution": {"command": "x", "timeoutSeconds": 100000}}' ],
	[ 'attempts negative', '{"execution": {"command": "x", "retry": {"maxAttempts": -3}}}' ],
	[ 'multiplier 11', '{"execution": {"command": "x", "retry": {"backoffMultiplier": 11}}}' ],
	[ 'retry unknown key', '{"execution": {"command": "x", "retry": {"attempts": 3}}}' ],
	[ 'concurrency value', '{"execution": {"command": "x", "concurrency": "queue"}}' ],
	[ 'missedRuns value', '{"execution": {"command": "x", "missedRuns": "latest"}}' ],
	[ 'email without domain', '{"execution": {"command": "x"}, "notifications": {"email": {"recipients": ["ops"]}}}' ],
	[ 'email with name', '{"execution": {"command": "x"}, "notifications": {"email": {"recipients": ["Ops <ops@example.com>"]}}}' ],
	[ 'email none', '{"execution": {"command": "x"}, "notifications": {"email": {"recipients": []}}}' ],
	[ 'slack http', '{"execution": {"command": "x"}, "notifications": {"slack": {"webhookUrl": "http://hooks.slack.com/x"}}}' ],
	[ 'slack javascript', '{"execution": {"command": "x"}, "notifications": {"slack": {"webhookUrl": "javascript:alert(1)"}}}' ],
	[ 'notifications unknown', '{"execution": {"command": "x"}, "notifications": {"pagerduty": {}}}' ],
	[ 'enabled string', '{"enabled": "true", "execution": {"command": "x"}}' ],
	[ 'top-level unknown', '{"execution": {"command": "x"}, "version": 2}' ],
	[ 'array payload', '[{"execution": {"command": "x"}}]' ],
	[ 'cron reversed range', '{"trigger": {"type": "schedule", "schedule": {"cron": "0 5-1 * * *"}}, "execution": {"command": "x"}}', 'server_only' ],
	[ 'cron never occurs', '{"trigger": {"type": "schedule", "schedule": {"cron": "0 0 31 4 *"}}, "execution": {"command": "x"}}', 'server_only' ],
	[ 'runAs unknown role', '{"execution": {"command": "x", "runAs": "no_such_role"}}', 'server_only' ],
	[ 'dependency missing', '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["no-such-job"]}}, "execution": {"command": "x"}}', 'server_only' ],
	[ 'webhook path taken', '{"trigger": {"type": "webhook", "webhook": {"path": "minimal", "secret": "0123456789abcdef"}}, "execution": {"command": "x"}}', 'server_only' ],
	[ 'retry cap below delay', '{"execution": {"command": "x", "retry": {"initialDelaySeconds": 100, "maxDelaySeconds": 10}}}', 'server_only' ],
);

my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM jobconfig.job_configs');
my @schema_verdicts = schema_verdicts(map { $_->[1] } @broken);
for my $i (0 .. $#broken)
{
	my ($name, $payload, $server_only) = @{ $broken[$i] };
	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		"\\set VERBOSITY verbose\nSELECT jobconfig.create_job('broken-$i', \$\$$payload\$\$)");
	like($stderr, qr/ERROR:  22023: invalid job configuration for "broken-$i": payload/,
		"$name: refused by the server with 22023 and a JSON path");
	if ($server_only)
	{
		is($schema_verdicts[$i], 'valid', "$name: beyond a static schema (server-side check only)");
	}
	else
	{
		like($schema_verdicts[$i], qr/^invalid/, "$name: invalid under the schema");
	}
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM jobconfig.job_configs'), $before,
	'no broken payload was stored');

$node->stop;
done_testing();
