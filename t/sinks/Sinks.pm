# Sinks: local HTTP and SMTP servers the notification tests send to.
#
#   my $http = Sinks::start('http', script => ['/hook/flaky=500,500,200']);
#   ... $http->{port} ...
#   my @requests = Sinks::wait_for_records($http, 1);   # bounded poll
#   Sinks::stop($http);
#   Sinks::restart($http);                              # same port
#
# Each sink is a separate process (http_sink.pl, smtp_sink.pl beside this
# file) listening on a loopback address only, on a port reserved with
# PostgreSQL::Test::Cluster::get_free_port().  What it receives is appended
# to a JSON-lines record file, read back by records().  Sinks still running
# when the test ends are stopped.
package Sinks;

use strict;
use warnings;
use File::Basename qw(dirname);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Time::HiRes ();

my $here = dirname(__FILE__);
my @running;
my $count = 0;

# start(kind, host => '127.0.0.1', port => N, script => [...]): a sink.
sub start
{
	my ($kind, %opts) = @_;
	die "unknown sink kind $kind" unless $kind eq 'http' || $kind eq 'smtp';
	my $dir = PostgreSQL::Test::Utils::tempdir();
	$count++;
	my $sink = {
		kind => $kind,
		host => $opts{host} // '127.0.0.1',
		port => $opts{port} // PostgreSQL::Test::Cluster::get_free_port(),
		script => $opts{script} // [],
		record => "$dir/$kind-$count.jsonl",
		ready => "$dir/$kind-$count.ready",
		log => "$PostgreSQL::Test::Utils::log_path/sink-$kind-$count.log",
	};
	open my $fh, '>', $sink->{record} or die "cannot create $sink->{record}: $!";
	close $fh;
	_launch($sink);
	return $sink;
}

sub _launch
{
	my ($sink) = @_;
	unlink $sink->{ready};
	my @cmd = ($^X, "$here/$sink->{kind}_sink.pl",
		'--host', $sink->{host}, '--port', $sink->{port},
		'--record', $sink->{record}, '--ready', $sink->{ready},
		map { ('--script', $_) } @{ $sink->{script} });
	$sink->{handle} = IPC::Run::start(\@cmd, '>>', $sink->{log}, '2>>', $sink->{log});
	push @running, $sink;

	# Bounded wait for the socket to listen.
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	until (-e $sink->{ready})
	{
		die "$sink->{kind} sink did not start on $sink->{host}:$sink->{port}, see $sink->{log}"
		  if time > $deadline || !$sink->{handle}->pumpable;
		Time::HiRes::sleep(0.05);
	}
	return $sink;
}

# stop(sink): stop it (its port then refuses connections).
sub stop
{
	my ($sink) = @_;
	return unless $sink->{handle};
	$sink->{handle}->signal('TERM');
	eval { $sink->{handle}->finish; 1 } or $sink->{handle}->kill_kill;
	delete $sink->{handle};
	@running = grep { $_ != $sink } @running;
}

# restart(sink): start it again on the same address and port, with the
# same record file.  (Scripts start over; give none to a sink you restart.)
sub restart
{
	my ($sink) = @_;
	die "sink is running" if $sink->{handle};
	return _launch($sink);
}

# records(sink): what it received so far, oldest first.
sub records
{
	my ($sink) = @_;
	open my $fh, '<', $sink->{record} or die "cannot read $sink->{record}: $!";
	my $json = JSON::PP->new;
	my @records;
	while (my $line = <$fh>)
	{
		last unless $line =~ /\n$/;    # a line still being written
		push @records, $json->decode($line);
	}
	close $fh;
	return @records;
}

# wait_for_records(sink, n, filter): poll (bounded) until at least n
# records pass the filter (a sub taking a record; default: all), then
# return those records.
sub wait_for_records
{
	my ($sink, $n, $filter) = @_;
	$filter //= sub { 1 };
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	while (1)
	{
		my @got = grep { $filter->($_) } records($sink);
		return @got if @got >= $n || time > $deadline;
		Time::HiRes::sleep(0.1);
	}
}

END
{
	foreach my $sink (@running)
	{
		eval { $sink->{handle}->kill_kill if $sink->{handle}; 1 };
	}
}

1;
