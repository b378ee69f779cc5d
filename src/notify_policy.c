/*-------------------------------------------------------------------------
 *
 * notify_policy.c
 *	  Where the notifier may send.  A Slack URL is written by a job's
 *	  writer, who must not be able to aim the notifier (a process inside
 *	  the database server's network) at internal services.
 *
 * jobconfig.notify_allowed_hosts, a superuser setting, is a comma-separated
 * list of host names: "hooks.slack.com", "*.example.com" (any subdomain), or
 * "*" (any host).  A host matched only by a wildcard may be reached at public
 * addresses only: loopback, private, link-local, shared (CGNAT), multicast
 * and unspecified addresses are refused.  A host named exactly (including
 * an IP literal such as 127.0.0.1) may be reached at any address, so tests
 * and internal relays can be allowed one by one.
 *
 * The address is checked where the connection is opened, after name
 * resolution (CURLOPT_OPENSOCKETFUNCTION), so a name that resolves to an
 * internal address is caught as well as a literal one.
 *
 * IDENTIFICATION
 *	  src/notify_policy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <netinet/in.h>

#include "utils/varlena.h"

#include "notify_policy.h"

/*
 * HostMatches
 *	  Does one allow-list entry match host?  Case-insensitive.
 */
static bool
HostMatches(const char *entry, const char *host)
{
	size_t		host_len = strlen(host);

	if (strcmp(entry, "*") == 0)
		return true;
	if (strncmp(entry, "*.", 2) == 0)
	{
		size_t		suffix_len = strlen(entry) - 1;	/* ".example.com" */

		return host_len > suffix_len &&
			pg_strcasecmp(host + host_len - suffix_len, entry + 1) == 0;
	}
	return pg_strcasecmp(entry, host) == 0;
}

/*
 * NotifyHostListing
 *	  How host stands in the allow-list.
 */
HostListing
NotifyHostListing(const char *allowed_hosts, const char *host)
{
	char	   *copy = pstrdup(allowed_hosts != NULL ? allowed_hosts : "");
	List	   *entries = NIL;
	HostListing listing = HOST_NOT_ALLOWED;
	ListCell   *lc;

	if (!SplitGUCList(copy, ',', &entries))
		return HOST_NOT_ALLOWED;	/* the setting's check hook prevents this */
	foreach(lc, entries)
	{
		const char *entry = lfirst(lc);

		if (strchr(entry, '*') == NULL && HostMatches(entry, host))
			return HOST_LISTED;
		if (HostMatches(entry, host))
			listing = HOST_ALLOWED_PUBLIC;
	}
	return listing;
}

/*
 * NotifyAllowedHostsProblem
 *	  What is wrong with a value of jobconfig.notify_allowed_hosts, or
 *	  NULL when it is well formed.
 */
const char *
NotifyAllowedHostsProblem(const char *value)
{
	char	   *copy = pstrdup(value != NULL ? value : "");
	List	   *entries = NIL;
	ListCell   *lc;

	if (!SplitGUCList(copy, ',', &entries))
		return "The list is not well formed: separate host names with commas.";
	foreach(lc, entries)
	{
		const char *entry = lfirst(lc);
		const char *star = strchr(entry, '*');

		if (entry[0] == '\0')
			return "An entry is empty.";
		if (star != NULL && strcmp(entry, "*") != 0 &&
			(strncmp(entry, "*.", 2) != 0 || strchr(entry + 1, '*') != NULL || entry[2] == '\0'))
			return psprintf("Entry \"%s\": a wildcard is allowed only as \"*\" or at the start, as in \"*.example.com\".", entry);
	}
	return NULL;
}

/*
 * IPv4Kind
 *	  What kind of internal address a (host-order) IPv4 address is, or
 *	  NULL for a public one.
 */
static const char *
IPv4Kind(uint32 a)
{
	if ((a >> 24) == 127)
		return "loopback";
	if ((a >> 24) == 10 || (a >> 20) == (172 << 4 | 1) || (a >> 16) == (192 << 8 | 168))
		return "private";
	if ((a >> 16) == (169 << 8 | 254))
		return "link-local";
	if ((a >> 22) == (100 << 2 | 1))	/* 100.64.0.0/10 */
		return "shared (carrier-grade NAT)";
	if ((a >> 24) == 0)
		return "unspecified";
	if ((a >> 28) >= 14)		/* 224.0.0.0/4 and 240.0.0.0/4 */
		return "multicast or reserved";
	return NULL;
}

/*
 * NotifyAddressKind
 *	  "loopback", "private" etc. for an address the notifier must not
 *	  reach without the host being listed by name; NULL for a public one.
 */
const char *
NotifyAddressKind(const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET)
		return IPv4Kind(ntohl(((const struct sockaddr_in *) addr)->sin_addr.s_addr));
	if (addr->sa_family == AF_INET6)
	{
		const uint8 *b = ((const struct sockaddr_in6 *) addr)->sin6_addr.s6_addr;
		static const uint8 v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		/* NAT64 (RFC 6052): a gateway turns these into the IPv4 address */
		static const uint8 nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
		int			i;
		bool		zero_prefix = true;

		if (memcmp(b, v4mapped, sizeof(v4mapped)) == 0 ||
			memcmp(b, nat64, sizeof(nat64)) == 0)
			return IPv4Kind((uint32) b[12] << 24 | (uint32) b[13] << 16 |
							(uint32) b[14] << 8 | b[15]);
		for (i = 0; i < 15; i++)
			zero_prefix &= b[i] == 0;
		if (zero_prefix)
			return b[15] == 1 ? "loopback" : "unspecified";
		if ((b[0] & 0xfe) == 0xfc)
			return "private";
		if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
			return "link-local";
		if (b[0] == 0xff)
			return "multicast or reserved";
		return NULL;
	}
	return "non-IP";
}
