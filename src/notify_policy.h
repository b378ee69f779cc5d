/*-------------------------------------------------------------------------
 *
 * notify_policy.h
 *	  Where the notifier may send: the host allow-list and the addresses
 *	  refused unless their host is listed by name.
 *
 * IDENTIFICATION
 *	  src/notify_policy.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_NOTIFY_POLICY_H
#define JOBCONFIG_NOTIFY_POLICY_H

#include <sys/socket.h>

/* How a host stands in jobconfig.notify_allowed_hosts. */
typedef enum HostListing
{
	HOST_NOT_ALLOWED,			/* not matched: refuse */
	HOST_ALLOWED_PUBLIC,		/* matched by "*": public addresses only */
	HOST_LISTED					/* named: any address, internal ones too */
} HostListing;

extern const char *NotifyAllowedHostsProblem(const char *value);
extern HostListing NotifyHostListing(const char *allowed_hosts, const char *host);
extern const char *NotifyAddressKind(const struct sockaddr *addr);

#endif							/* JOBCONFIG_NOTIFY_POLICY_H */
