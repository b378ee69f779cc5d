#!/usr/bin/perl
# http_sink.pl: a tiny HTTP/1.1 server for the notification tests.
#
#   http_sink.pl --host 127.0.0.1 --port N --record FILE --ready FILE
#                [--script /path=500,429,200 ...]
#
# Listens on host:port (loopback only), answers every request with the
# next status of its path's script (200 once the script is used up, or
# when the path has none), and appends one JSON line per request to the
# record file -- written and flushed before the answer is sent, so that
# whoever saw the answer finds the request recorded:
#
#   {"at": <unix time, fractional>, "method": "POST", "target": "/hook/x",
#    "headers": {"content-type": "application/json", ...}, "body": "...",
#    "status": 200}
#
# The ready file is written once the socket listens.  SIGTERM stops it.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use SinkServer;
use IO::Select;
use JSON::PP;
use Time::HiRes qw(time);

my @scripts;
my ($opts, $listener, $rec) = SinkServer::open_sink('script=s' => \@scripts);

# path => [statuses still to answer]
my %script;
foreach my $s (@scripts)
{
	my ($path, $list) = $s =~ /^([^=]+)=([0-9,]+)$/
	  or die "bad --script $s\n";
	$script{$path} = [ split /,/, $list ];
}

my %reason = (200 => 'OK', 400 => 'Bad Request', 403 => 'Forbidden',
	404 => 'Not Found', 410 => 'Gone', 429 => 'Too Many Requests',
	500 => 'Internal Server Error', 502 => 'Bad Gateway',
	503 => 'Service Unavailable');

my $json = JSON::PP->new->canonical->ascii;

while (1)
{
	my $client = $listener->accept or next;
	eval { serve($client); 1 } or print STDERR "http_sink: $@";
	close $client;
}

# read_more(sock, \buf): append what arrives within 10 s; false at EOF or
# timeout.
sub read_more
{
	my ($sock, $buf) = @_;
	my $sel = IO::Select->new($sock);
	return 0 unless $sel->can_read(10);
	my $n = sysread($sock, $$buf, 65536, length $$buf);
	return $n ? 1 : 0;
}

sub serve
{
	my ($sock) = @_;
	my $buf = '';

	until ($buf =~ /\r?\n\r?\n/)
	{
		return unless read_more($sock, \$buf);
		die "header too large\n" if length $buf > 1_000_000;
	}
	my ($head, $rest) = split /\r?\n\r?\n/, $buf, 2;
	my ($request_line, @header_lines) = split /\r?\n/, $head;
	my ($method, $target) = $request_line =~ /^(\S+)\s+(\S+)\s+HTTP\/\d\.\d$/
	  or die "bad request line: $request_line\n";
	my %headers;
	foreach my $line (@header_lines)
	{
		my ($name, $value) = $line =~ /^([^:]+):\s*(.*?)\s*$/ or next;
		$name = lc $name;
		$headers{$name} = exists $headers{$name} ? "$headers{$name}, $value" : $value;
	}

	print $sock "HTTP/1.1 100 Continue\r\n\r\n"
	  if ($headers{expect} // '') =~ /100-continue/i;

	my $body = $rest;
	if (($headers{'transfer-encoding'} // '') =~ /chunked/i)
	{
		my $raw = $rest;
		$body = '';
		while (1)
		{
			until ($raw =~ /^([0-9A-Fa-f]+)[^\r\n]*\r\n/)
			{
				die "truncated chunk\n" unless read_more($sock, \$raw);
			}
			my $size = hex $1;
			my $skip = length($&);
			until (length($raw) >= $skip + $size + 2)
			{
				die "truncated chunk\n" unless read_more($sock, \$raw);
			}
			$body .= substr($raw, $skip, $size);
			$raw = substr($raw, $skip + $size + 2);
			last if $size == 0;
		}
	}
	else
	{
		my $length = $headers{'content-length'} // 0;
		until (length($body) >= $length)
		{
			die "truncated body\n" unless read_more($sock, \$body);
		}
		$body = substr($body, 0, $length);
	}

	my $path = $target;
	$path =~ s/\?.*//;
	my $status = 200;
	$status = shift @{ $script{$path} } if $script{$path} && @{ $script{$path} };

	print $rec $json->encode({
		at => time,
		method => $method,
		target => $target,
		headers => \%headers,
		body => $body,
		status => $status + 0 }), "\n";

	my $answer = $status == 200 ? "ok" : "sink says $status";
	print $sock "HTTP/1.1 $status " . ($reason{$status} // 'Whatever') . "\r\n"
	  . "Content-Type: text/plain\r\n"
	  . "Content-Length: " . length($answer) . "\r\n"
	  . "Connection: close\r\n\r\n"
	  . $answer;
}
