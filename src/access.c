/*-------------------------------------------------------------------------
 *
 * access.c
 *	  Who may read and write jobs, and running internal writes as the
 *	  extension's owner.
 *
 * Readers and writers are named by the settings jobconfig.reader_roles and
 * jobconfig.writer_roles, looked up on every check, so a role created after
 * CREATE EXTENSION, or a changed setting, takes effect at once.  Tables are
 * granted to PUBLIC and guarded by row-level security policies that call
 * the functions here; functions that change state check first and refuse
 * with 42501 and a hint naming the setting.
 *
 * Some writes must not depend on the caller's privileges: the secrets table
 * and the changelog are not writable by anyone but the owner, yet every
 * writer's change to a job must update them.  Those writes run as the
 * extension's owner between AccessBecomeOwner and AccessRestoreUser, as
 * PostgreSQL's own referential-integrity triggers do.  An error in between
 * needs no cleanup: transaction abort restores the user id.
 *
 * IDENTIFICATION
 *	  src/access.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "access.h"
#include "arguments.h"
#include "jobconfig.h"

PG_FUNCTION_INFO_V1(jobconfig_current_role_can_read);
PG_FUNCTION_INFO_V1(jobconfig_current_role_can_write);
PG_FUNCTION_INFO_V1(jobconfig_require_reader);
PG_FUNCTION_INFO_V1(jobconfig_require_writer);

/*
 * RoleInList
 *	  Does roleid have the privileges of any existing role named in the
 *	  comma-separated list?  Names of roles that do not exist are skipped, so
 *	  the defaults work on a PostgreSQL without Supabase's roles.
 */
static bool
RoleInList(Oid roleid, const char *list)
{
	char	   *copy;
	List	   *names;
	ListCell   *lc;
	bool		found = false;

	if (list == NULL || list[0] == '\0')
		return false;

	copy = pstrdup(list);
	if (!SplitIdentifierString(copy, ',', &names))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid role list \"%s\"", list),
				 errhint("Set jobconfig.reader_roles and jobconfig.writer_roles to comma-separated role names.")));

	foreach(lc, names)
	{
		Oid			listed = get_role_oid((char *) lfirst(lc), true);

		if (OidIsValid(listed) && has_privs_of_role(roleid, listed))
		{
			found = true;
			break;
		}
	}
	list_free(names);
	pfree(copy);
	return found;
}

/*
 * AccessRelationOid
 *	  The OID of a relation in the extension's schema; an error when the
 *	  extension is not installed in this database.
 */
Oid
AccessRelationOid(const char *relname)
{
	Oid			nspid = get_namespace_oid(JOBCONFIG_SCHEMA, false);
	Oid			relid = get_relname_relid(relname, nspid);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.%s\" does not exist",
						JOBCONFIG_SCHEMA, relname),
				 errhint("Run CREATE EXTENSION jobconfig in this database.")));
	return relid;
}

/*
 * AccessExtensionOwner
 *	  The role that owns the extension's tables (whoever ran CREATE
 *	  EXTENSION).  Internal writes run as this role.
 */
Oid
AccessExtensionOwner(void)
{
	Oid			relid = AccessRelationOid("job_configs");
	Oid			owner;
	HeapTuple	tuple;

	/* pg_class's relowner, read through the syscache. */
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * AccessRoleCanWrite
 *	  Writers are superusers, the extension's owner and members of
 *	  jobconfig.writer_roles.
 */
bool
AccessRoleCanWrite(Oid roleid)
{
	if (superuser_arg(roleid))
		return true;
	if (has_privs_of_role(roleid, AccessExtensionOwner()))
		return true;
	return RoleInList(roleid, jobconfig_writer_roles);
}

/*
 * AccessRoleCanRead
 *	  Readers are writers and members of jobconfig.reader_roles.
 */
bool
AccessRoleCanRead(Oid roleid)
{
	return AccessRoleCanWrite(roleid) ||
		RoleInList(roleid, jobconfig_reader_roles);
}

/*
 * AccessRequireWriter
 *	  Refuse, with a hint naming the setting, when the current role may not
 *	  write.  "action" completes "permission denied to ...".
 */
void
AccessRequireWriter(const char *action)
{
	Oid			roleid = GetUserId();

	if (!AccessRoleCanWrite(roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", action),
				 errdetail("Role \"%s\" is not a jobconfig writer.",
						   GetUserNameFromId(roleid, false)),
				 errhint("Writers are the roles listed in jobconfig.writer_roles (now \"%s\") and their members.",
						 jobconfig_writer_roles ? jobconfig_writer_roles : "")));
}

/*
 * AccessRequireReader
 *	  As AccessRequireWriter, for reading.
 */
void
AccessRequireReader(const char *action)
{
	Oid			roleid = GetUserId();

	if (!AccessRoleCanRead(roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", action),
				 errdetail("Role \"%s\" is neither a jobconfig reader nor a writer.",
						   GetUserNameFromId(roleid, false)),
				 errhint("Readers are the roles listed in jobconfig.reader_roles (now \"%s\") and their members.",
						 jobconfig_reader_roles ? jobconfig_reader_roles : "")));
}

/*
 * AccessBecomeOwner
 *	  Run what follows as the extension's owner, in a restricted security
 *	  context so that nothing the owner's settings name can take over.
 */
void
AccessBecomeOwner(OwnerSection *section)
{
	Oid			owner = AccessExtensionOwner();

	GetUserIdAndSecContext(&section->saved_userid,
						   &section->saved_sec_context);
	SetUserIdAndSecContext(owner,
						   section->saved_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
}

/*
 * AccessRestoreUser
 *	  Back to the identity saved by AccessBecomeOwner.
 */
void
AccessRestoreUser(const OwnerSection *section)
{
	SetUserIdAndSecContext(section->saved_userid,
						   section->saved_sec_context);
}

/*
 * jobconfig_current_role_can_read
 *	  SQL: jobconfig.current_role_can_read(), used by the RLS policies.
 */
Datum
jobconfig_current_role_can_read(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(AccessRoleCanRead(GetUserId()));
}

/*
 * jobconfig_current_role_can_write
 *	  SQL: jobconfig.current_role_can_write(), used by the RLS policies.
 */
Datum
jobconfig_current_role_can_write(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(AccessRoleCanWrite(GetUserId()));
}

/*
 * jobconfig_require_reader
 *	  SQL: jobconfig.require_reader(action text), for the SQL API.
 */
Datum
jobconfig_require_reader(PG_FUNCTION_ARGS)
{
	ArgumentsRequire(fcinfo);
	AccessRequireReader(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}

/*
 * jobconfig_require_writer
 *	  SQL: jobconfig.require_writer(action text), for the SQL API.
 */
Datum
jobconfig_require_writer(PG_FUNCTION_ARGS)
{
	ArgumentsRequire(fcinfo);
	AccessRequireWriter(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}
