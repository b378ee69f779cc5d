#!/usr/bin/perl
# smtp_sink.pl: a tiny SMTP server for the notification tests.
#
#   smtp_sink.pl --host 127.0.0.1 --port N --record FILE --ready FILE
#
# Speaks enough ESMTP for libcurl (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
# QUIT; no AUTH, no STARTTLS), accepts every message, and appends one JSON
# line per message to the record file -- written and flushed before the
# final "250" of DATA, so a sender that saw its message accepted finds it
# recorded:
#
#   {"at": <unix time>, "helo": "...", "mail_from": "<a@b>",
#    "rcpt_to": ["<c@d>", ...], "data": "<the message, dot-unstuffed, CRLF>"}
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

my ($opts, $listener, $rec) = SinkServer::open_sink();

my $json = JSON::PP->new->canonical->ascii;

while (1)
{
	my $client = $listener->accept or next;
	eval { session($client); 1 } or print STDERR "smtp_sink: $@";
	close $client;
}

# A line reader with a 30 s idle timeout; undef at EOF or timeout.
{
	my %pending;

	sub read_line
	{
		my ($sock) = @_;
		my $buf = \$pending{ fileno $sock };
		$$buf //= '';
		my $sel = IO::Select->new($sock);
		until ($$buf =~ /\n/)
		{
			return undef unless $sel->can_read(30);
			my $n = sysread($sock, $$buf, 65536, length $$buf);
			return undef unless $n;
		}
		$$buf =~ s/^([^\n]*\n)//;
		return $1;
	}

	sub forget { delete $pending{ fileno $_[0] } }
}

sub reply
{
	my ($sock, $text) = @_;
	print $sock "$text\r\n";
}

sub session
{
	my ($sock) = @_;
	$sock->autoflush(1);
	forget($sock);
	reply($sock, '220 127.0.0.1 smtp_sink ESMTP ready');

	my ($helo, $from, @rcpt) = ('');
	while (defined(my $line = read_line($sock)))
	{
		$line =~ s/\r?\n$//;
		if ($line =~ /^EHLO\s*(.*)$/i)
		{
			$helo = $1;
			($from, @rcpt) = ();
			reply($sock, '250-127.0.0.1 hello');
			reply($sock, '250-8BITMIME');
			reply($sock, '250 SIZE 10485760');
		}
		elsif ($line =~ /^HELO\s*(.*)$/i)
		{
			$helo = $1;
			($from, @rcpt) = ();
			reply($sock, '250 127.0.0.1 hello');
		}
		elsif ($line =~ /^MAIL FROM:\s*(\S*)/i)
		{
			$from = $1;
			@rcpt = ();
			reply($sock, '250 2.1.0 sender ok');
		}
		elsif ($line =~ /^RCPT TO:\s*(\S*)/i)
		{
			if (!defined $from)
			{
				reply($sock, '503 5.5.1 MAIL first');
				next;
			}
			push @rcpt, $1;
			reply($sock, '250 2.1.5 recipient ok');
		}
		elsif ($line =~ /^DATA$/i)
		{
			if (!defined $from || !@rcpt)
			{
				reply($sock, '503 5.5.1 MAIL and RCPT first');
				next;
			}
			reply($sock, '354 end data with <CR><LF>.<CR><LF>');
			my $data = '';
			while (1)
			{
				my $l = read_line($sock);
				die "connection lost in DATA\n" unless defined $l;
				last if $l =~ /^\.\r?\n$/;
				$l =~ s/^\.\././;    # dot-unstuffing (RFC 5321 4.5.2)
				$data .= $l;
			}
			print $rec $json->encode({
				at => time,
				helo => $helo,
				mail_from => $from,
				rcpt_to => [@rcpt],
				data => $data }), "\n";
			($from, @rcpt) = ();
			reply($sock, '250 2.0.0 queued');
		}
		elsif ($line =~ /^RSET$/i)
		{
			($from, @rcpt) = ();
			reply($sock, '250 2.0.0 reset');
		}
		elsif ($line =~ /^NOOP/i)
		{
			reply($sock, '250 2.0.0 ok');
		}
		elsif ($line =~ /^QUIT$/i)
		{
			reply($sock, '221 2.0.0 bye');
			last;
		}
		else
		{
			reply($sock, '502 5.5.2 command not implemented');
		}
	}
	forget($sock);
}
