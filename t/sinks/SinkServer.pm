# SinkServer: what http_sink.pl and smtp_sink.pl share -- their common
# options, the loopback listener, the record file and the ready file.
#
#   my ($opts, $listener, $rec) = SinkServer::open_sink('script=s' => \@scripts);
#
# open_sink parses --host, --port, --record and --ready (plus the extra
# Getopt::Long specs given), refuses any host but loopback, listens, opens
# the record file for appending (autoflushed), and only then writes the
# ready file, atomically, holding the port actually bound (the caller may
# have asked for port 0).  SIGTERM and SIGINT end the process cleanly.
package SinkServer;

use strict;
use warnings;
use Getopt::Long;
use IO::Socket::INET;

sub open_sink
{
	my (@extra) = @_;
	my %o = (host => '127.0.0.1', port => 0);
	GetOptions(
		'host=s' => \$o{host},
		'port=i' => \$o{port},
		'record=s' => \$o{record},
		'ready=s' => \$o{ready},
		@extra) or die "usage: $0 --port N --record FILE --ready FILE\n";
	die "--record and --ready are required\n" unless $o{record} && $o{ready};
	die "only loopback addresses, please\n" unless $o{host} =~ /^127\./;

	$SIG{TERM} = $SIG{INT} = sub { exit 0 };
	$SIG{PIPE} = 'IGNORE';

	my $listener = IO::Socket::INET->new(
		LocalAddr => $o{host},
		LocalPort => $o{port},
		Proto => 'tcp',
		Listen => 16,
		ReuseAddr => 1) or die "cannot listen on $o{host}:$o{port}: $@\n";

	open my $rec, '>>', $o{record} or die "cannot open $o{record}: $!\n";
	$rec->autoflush(1);

	my $ready = $o{ready};
	open my $rf, '>', "$ready.tmp" or die "cannot write $ready.tmp: $!\n";
	print $rf $listener->sockport, "\n";
	close $rf;
	rename "$ready.tmp", $ready or die "cannot rename to $ready: $!\n";

	return (\%o, $listener, $rec);
}

1;
