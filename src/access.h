/*-------------------------------------------------------------------------
 *
 * access.h
 *	  Who may read and write jobs, and running internal writes as the
 *	  extension's owner.
 *
 * IDENTIFICATION
 *	  src/access.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_ACCESS_H
#define JOBCONFIG_ACCESS_H

/* Saved identity while an internal write runs as the extension's owner. */
typedef struct OwnerSection
{
	Oid			saved_userid;
	int			saved_sec_context;
} OwnerSection;

extern bool AccessRoleCanRead(Oid roleid);
extern bool AccessRoleCanWrite(Oid roleid);
extern void AccessRequireWriter(const char *action);
extern void AccessRequireReader(const char *action);
extern Oid	AccessRelationOid(const char *relname);
extern Oid	AccessExtensionOwner(void);
extern void AccessBecomeOwner(OwnerSection *section);
extern void AccessRestoreUser(const OwnerSection *section);

#endif							/* JOBCONFIG_ACCESS_H */
