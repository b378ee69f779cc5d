/*-------------------------------------------------------------------------
 *
 * job_graph.c
 *	  The dependency graph of jobs: referenced jobs must exist, no cycle
 *	  may form, and a job others depend on cannot be deleted.
 *
 * An edge runs from a job to each job in its trigger.dependency.jobIds
 * (stored, derived, in job_configs.depends_on).  Writing a dependency job
 * walks upstream from its new dependencies, one query per level, looking
 * for the job itself; the cost is proportional to the upstream graph, not
 * to the number of jobs.  Writers of dependency jobs and deleters of jobs
 * take one transaction-scoped advisory lock, so two concurrent writes
 * cannot together form a cycle or leave a dangling reference.
 *
 * IDENTIFICATION
 *	  src/job_graph.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"

#include "access.h"
#include "catalog.h"
#include "job_graph.h"

/* The node of the upstream walk: a job and the job that led to it. */
typedef struct GraphNode
{
	char		job_id[NAMEDATALEN];
	char		reached_from[NAMEDATALEN];
} GraphNode;

static CatalogQuery ExistingJobs = {
	"SELECT job_id FROM jobconfig.job_configs WHERE job_id = ANY ($1)",
	1, {TEXTARRAYOID}
};

static CatalogQuery UpstreamEdges = {
	"SELECT job_id, depends_on FROM jobconfig.job_configs"
	" WHERE job_id = ANY ($1) AND depends_on IS NOT NULL",
	1, {TEXTARRAYOID}
};

static CatalogQuery Dependents = {
	"SELECT job_id FROM jobconfig.job_configs"
	" WHERE depends_on @> ARRAY[$1] AND job_id <> $1 ORDER BY job_id",
	1, {TEXTOID}
};

/*
 * JobGraphLock
 *	  Serialise changes to the graph for the rest of the transaction.
 */
void
JobGraphLock(void)
{
	DirectFunctionCall2(pg_advisory_xact_lock_int4,
						Int32GetDatum((int32) AccessRelationOid("job_configs")),
						Int32GetDatum(1));
}

/*
 * TextArray
 *	  A text[] Datum of the C strings in a List.
 */
static Datum
TextArray(List *strings)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(strings), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, strings)
		elems[n++] = CStringGetTextDatum((const char *) lfirst(lc));
	return CatalogArray(elems, NULL, n, TEXTOID);
}

/*
 * CheckDependenciesExist
 *	  Every referenced job must exist (the job itself is a cycle, reported
 *	  by the cycle check).
 */
static void
CheckDependenciesExist(const char *job_id, List *depends_on,
					   ProblemList *problems)
{
	Datum		args[1] = {TextArray(depends_on)};
	ListCell   *lc;
	int			i = 0;

	CatalogExecute(&ExistingJobs, args, NULL, true, 0);
	foreach(lc, depends_on)
	{
		const char *dep = lfirst(lc);
		bool		found = strcmp(dep, job_id) == 0;
		uint64		row;

		for (row = 0; !found && row < SPI_processed; row++)
			found = strcmp(CatalogGetText(row, 1), dep) == 0;
		if (!found)
			ProblemAdd(problems,
					   psprintf("payload.trigger.dependency.jobIds[%d]", i),
					   "job \"%s\" does not exist", dep);
		i++;
	}
}

/*
 * CyclePath
 *	  "a -> b -> ... -> a": the job, then the chain of the walk that led
 *	  back to it, from the job's own dependency down to "last".
 */
static char *
CyclePath(HTAB *visited, const char *job_id, const char *last)
{
	List	   *chain = NIL;
	const char *name = last;
	StringInfoData path;
	ListCell   *lc;

	while (name[0] != '\0')
	{
		GraphNode  *node = hash_search(visited, name, HASH_FIND, NULL);

		chain = lcons((void *) name, chain);
		name = node->reached_from;
	}

	initStringInfo(&path);
	appendStringInfoString(&path, job_id);
	foreach(lc, chain)
		appendStringInfo(&path, " -> %s", (const char *) lfirst(lc));
	appendStringInfo(&path, " -> %s", job_id);
	return path.data;
}

/*
 * CheckNoCycle
 *	  Walk upstream from the new dependencies, level by level; reaching the
 *	  job itself means the write would close a cycle.
 */
static void
CheckNoCycle(const char *job_id, List *depends_on, ProblemList *problems)
{
	HASHCTL		ctl = {.keysize = NAMEDATALEN, .entrysize = sizeof(GraphNode)};
	HTAB	   *visited = hash_create("jobconfig dependency walk", 64, &ctl,
									  HASH_ELEM | HASH_STRINGS);
	List	   *frontier = NIL;
	ListCell   *lc;

	foreach(lc, depends_on)
	{
		const char *dep = lfirst(lc);
		GraphNode  *node;
		bool		found;

		if (strcmp(dep, job_id) == 0)
		{
			ProblemAdd(problems, "payload.trigger.dependency.jobIds",
					   "dependency cycle %s -> %s (a job cannot depend on itself)",
					   job_id, job_id);
			return;
		}
		node = hash_search(visited, dep, HASH_ENTER, &found);
		if (!found)
		{
			node->reached_from[0] = '\0';
			frontier = lappend(frontier, node->job_id);
		}
	}

	while (frontier != NIL)
	{
		Datum		args[1] = {TextArray(frontier)};
		List	   *next = NIL;
		uint64		row;

		CatalogExecute(&UpstreamEdges, args, NULL, true, 0);
		for (row = 0; row < SPI_processed; row++)
		{
			char	   *from = CatalogGetText(row, 1);
			bool		isnull;
			ArrayType  *deps = DatumGetArrayTypeP(CatalogGetDatum(row, 2, &isnull));
			Datum	   *elems;
			int			nelems;
			int			i;

			deconstruct_array(deps, TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, NULL, &nelems);
			for (i = 0; i < nelems; i++)
			{
				char	   *to = TextDatumGetCString(elems[i]);
				GraphNode  *node;
				bool		found;

				if (strcmp(to, job_id) == 0)
				{
					ProblemAdd(problems, "payload.trigger.dependency.jobIds",
							   "dependency cycle %s",
							   CyclePath(visited, job_id, from));
					hash_destroy(visited);
					return;
				}
				node = hash_search(visited, to, HASH_ENTER, &found);
				if (!found)
				{
					strlcpy(node->reached_from, from, NAMEDATALEN);
					next = lappend(next, node->job_id);
				}
			}
		}
		list_free(frontier);
		frontier = next;
	}
	hash_destroy(visited);
}

/*
 * JobGraphCheck
 *	  Check the new dependencies of job_id: they exist and close no cycle.
 *	  Call with the graph lock held.
 */
void
JobGraphCheck(const char *job_id, List *depends_on, ProblemList *problems)
{
	CheckDependenciesExist(job_id, depends_on, problems);
	CheckNoCycle(job_id, depends_on, problems);
}

/*
 * JobGraphDependents
 *	  The jobs that depend on job_id, by name.  Call with the graph lock
 *	  held.
 */
List *
JobGraphDependents(const char *job_id)
{
	Datum		args[1] = {CStringGetTextDatum(job_id)};
	List	   *dependents = NIL;
	uint64		row;

	CatalogExecute(&Dependents, args, NULL, true, 0);
	for (row = 0; row < SPI_processed; row++)
		dependents = lappend(dependents, CatalogGetText(row, 1));
	return dependents;
}
