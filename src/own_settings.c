/*-------------------------------------------------------------------------
 *
 * own_settings.c
 *	  The settings jobconfig's own statements run with, and those a job
 *	  runs with.
 *
 * jobconfig's own SQL often runs with rights its caller lacks: as the
 * extension's owner in a writer's backend (the write trigger, the
 * changelog), as a worker's superuser role, or right after a job in the
 * job's own transaction.  Whatever resolves a name there through a setting
 * someone else chose -- an operator "=" found first in a writer's schema,
 * say -- runs with those rights.  So, the way a SECURITY DEFINER function
 * with SET search_path is kept safe:
 *
 *	- every statement of jobconfig's own (catalog.c) is planned and run with
 *	  search_path = pg_catalog, pg_temp, set for that statement only
 *	  (OwnSettingsEnter, OwnSettingsLeave).  pg_temp last, and functions and
 *	  operators are never looked up in it, so no name resolves to an object
 *	  a user made; the plan cache replans when the path differs, so a plan
 *	  made under the pinned path is never reused under another;
 *	- a worker works with the server's settings (postgresql.conf, the
 *	  command line) and nothing else: what ALTER DATABASE ... SET and ALTER
 *	  ROLE ... SET applied when it connected is put back
 *	  (ServerSettingsCapture before connecting, ServerSettingsRestore after),
 *	  so a database owner's settings do not reach it;
 *	- a job runs with what a fresh connection of its role to this database
 *	  would have: the server's settings, then the ALTER ROLE / ALTER
 *	  DATABASE settings that apply to that role here, in the server's order
 *	  of precedence (RoleSettingsLoad, RoleSettingsApply);
 *	- after a job, whatever it set is undone (executor.c: a GUC nest level,
 *	  or RESET ALL after a top-level run), and where jobconfig records a run
 *	  inside the job's own last transaction, the job's settings are set back
 *	  to the server's for the record (ServerSettingsEnter).
 *
 * IDENTIFICATION
 *	  src/own_settings.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_db_role_setting.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "own_settings.h"

/* A setting as the server had it before the worker connected. */
typedef struct ServerSetting
{
	char	   *name;
	char	   *value;
} ServerSetting;

static ServerSetting *server_settings = NULL;
static int	server_setting_count = 0;

/* A row of pg_db_role_setting that may apply to runs in this database. */
typedef struct RoleSetting
{
	bool		for_database;	/* setdatabase is this database, not 0 */
	Oid			role;			/* InvalidOid: every role */
	ArrayType  *config;
} RoleSetting;

static List *role_settings = NIL;
static MemoryContext role_settings_context = NULL;

/*
 * PinSearchPath
 *	  search_path = pg_catalog, pg_temp, until the current GUC nest level
 *	  ends.
 */
static void
PinSearchPath(void)
{
	(void) set_config_option("search_path", OWN_SEARCH_PATH, PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

/*
 * OwnSettingsEnter
 *	  Pin the search_path for one statement of jobconfig's own; returns the
 *	  GUC nest level for OwnSettingsLeave (or -1 when the path was pinned
 *	  already, as inside a function that sets it).  An error in between
 *	  needs nothing: the (sub)transaction's abort undoes the setting.
 */
int
OwnSettingsEnter(void)
{
	int			nest;

	if (namespace_search_path != NULL &&
		strcmp(namespace_search_path, OWN_SEARCH_PATH) == 0)
		return -1;
	nest = NewGUCNestLevel();
	PinSearchPath();
	return nest;
}

/*
 * OwnSettingsLeave
 *	  Back to the settings OwnSettingsEnter found.
 */
void
OwnSettingsLeave(int nest)
{
	if (nest >= 0)
		AtEOXact_GUC(true, nest);
}

/*
 * ServerSettingsCapture
 *	  In a worker, before it connects to its database: note every setting
 *	  that can still change, as the postmaster handed it down.
 */
void
ServerSettingsCapture(void)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	int			count;
	struct config_generic **vars = GucVariables(&count);
	int			i;

	server_settings = palloc(sizeof(ServerSetting) * count);
	server_setting_count = 0;
	for (i = 0; i < count; i++)
	{
		const char *value;

		if (vars[i]->context < PGC_SUSET)
			continue;			/* fixed for the life of the process */
		value = GetConfigOption(vars[i]->name, true, false);
		if (value == NULL)
			continue;
		server_settings[server_setting_count].name = pstrdup(vars[i]->name);
		server_settings[server_setting_count].value = pstrdup(value);
		server_setting_count++;
	}
	MemoryContextSwitchTo(old);
}

/*
 * ServerSettingsRestore
 *	  Once connected: put back what the database's and roles' settings
 *	  changed.  Set at the source they came from, so that the server's
 *	  value also becomes what RESET gives.  Outside any transaction.
 */
void
ServerSettingsRestore(void)
{
	int			count;
	struct config_generic **vars = GucVariables(&count);
	int			i;

	for (i = 0; i < count; i++)
	{
		struct config_generic *var = vars[i];
		int			j;

		if (var->source != PGC_S_GLOBAL && var->source != PGC_S_DATABASE &&
			var->source != PGC_S_USER && var->source != PGC_S_DATABASE_USER)
			continue;
		for (j = 0; j < server_setting_count; j++)
		{
			if (strcmp(server_settings[j].name, var->name) != 0)
				continue;
			(void) set_config_option(var->name, server_settings[j].value,
									 PGC_SUSET, var->source, GUC_ACTION_SET,
									 true, WARNING, false);
			break;
		}
	}
}

/*
 * ServerSettingsEnter
 *	  Inside a job's transaction, before jobconfig's own statements: every
 *	  setting the job (or its role's settings) changed goes back to the
 *	  server's, in a new GUC nest level that the caller leaves with
 *	  AtEOXact_GUC(true, nest).  Settings fixed for the transaction
 *	  (transaction_read_only and the like) cannot change here; a
 *	  transaction the job made read-only stays so, and its record fails.
 */
int
ServerSettingsEnter(void)
{
	int			nest = NewGUCNestLevel();
	int			count;
	struct config_generic **vars = GucVariables(&count);
	int			i;

	for (i = 0; i < count; i++)
	{
		struct config_generic *var = vars[i];

		if (var->source != PGC_S_SESSION || (var->flags & GUC_NO_RESET_ALL) ||
			var->context < PGC_SUSET)
			continue;
		(void) set_config_option(var->name, NULL, PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	PinSearchPath();
	return nest;
}

/*
 * RoleSettingsLoad
 *	  Read the rows of pg_db_role_setting that may apply to runs in this
 *	  database (ALTER ROLE ... SET, ALTER DATABASE ... SET, and both).
 *	  Called in each claim's transaction, so a setting committed before a
 *	  run was claimed applies to it; the catalog is a page or two.
 */
void
RoleSettingsLoad(void)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;

	if (role_settings_context == NULL)
		role_settings_context = AllocSetContextCreate(TopMemoryContext,
													  "jobconfig role settings",
													  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(role_settings_context);
	role_settings = NIL;

	rel = table_open(DbRoleSettingRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_db_role_setting row = (Form_pg_db_role_setting) GETSTRUCT(tuple);
		MemoryContext old;
		RoleSetting *setting;
		bool		isnull;
		Datum		config;

		if (OidIsValid(row->setdatabase) && row->setdatabase != MyDatabaseId)
			continue;
		config = heap_getattr(tuple, Anum_pg_db_role_setting_setconfig,
							  RelationGetDescr(rel), &isnull);
		if (isnull)
			continue;
		old = MemoryContextSwitchTo(role_settings_context);
		setting = palloc(sizeof(RoleSetting));
		setting->for_database = OidIsValid(row->setdatabase);
		setting->role = row->setrole;
		setting->config = DatumGetArrayTypePCopy(config);
		role_settings = lappend(role_settings, setting);
		MemoryContextSwitchTo(old);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * RoleSettingsApply
 *	  Give the run of "role" the settings a connection of that role to this
 *	  database would get, as SET would (undone with the caller's GUC nest
 *	  level, or by RESET ALL).  Applied from the weakest to the strongest, in
 *	  the server's order of precedence: every role everywhere, this
 *	  database, the role everywhere, the role in this database.  A stored
 *	  value that is no longer valid fails the run, with the server's error.
 */
void
RoleSettingsApply(Oid role)
{
	static const struct
	{
		bool		for_database;
		bool		for_role;
	}			precedence[] = {{false, false}, {true, false}, {false, true}, {true, true}};
	int			i;

	if (role_settings == NIL)
		return;
	for (i = 0; i < lengthof(precedence); i++)
	{
		ListCell   *lc;

		foreach(lc, role_settings)
		{
			RoleSetting *setting = lfirst(lc);

			if (setting->for_database != precedence[i].for_database ||
				OidIsValid(setting->role) != precedence[i].for_role ||
				(OidIsValid(setting->role) && setting->role != role))
				continue;
			ProcessGUCArray(setting->config, PGC_SUSET, PGC_S_SESSION,
							GUC_ACTION_SET);
		}
	}
}
