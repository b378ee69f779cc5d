/*-------------------------------------------------------------------------
 *
 * changelog.c
 *	  The record of configuration changes: who, when, and the old and new
 *	  value of each changed path.
 *
 * The write trigger diffs the stored documents before and after a write,
 * key by key, down to the values that differ, and writes one changelog row
 * per write with every change in it.  Documents are compared as stored,
 * that is redacted, so secrets never reach the changelog; a changed secret
 * is recorded as changed, with both values redacted.  Provenance (who last
 * changed the job, when) is left out: the row itself says that.
 *
 * IDENTIFICATION
 *	  src/changelog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "access.h"
#include "catalog.h"
#include "changelog.h"
#include "payload.h"

/* Paths whose changes are not recorded. */
static const char *const UnrecordedPaths[] = {"meta.provenance", NULL};

static CatalogQuery InsertChange = {
	"INSERT INTO jobconfig.job_changelog"
	" (job_config_id, job_id, changed_by, action, changes)"
	" VALUES ($1, $2, $3, $4, $5)",
	5, {UUIDOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID}
};

/*
 * ChangeSetInit
 *	  An empty set of changes.
 */
void
ChangeSetInit(ChangeSet *changes)
{
	initStringInfo(&changes->json);
	appendStringInfoChar(&changes->json, '[');
	changes->count = 0;
}

/*
 * ChangeSetAdd
 *	  Record that "path" went from old_value to new_value (NULL: absent).
 */
void
ChangeSetAdd(ChangeSet *changes, const char *path, Jsonb *old_value,
			 Jsonb *new_value)
{
	StringInfo	out = &changes->json;

	if (changes->count++ > 0)
		appendStringInfoChar(out, ',');
	appendStringInfoString(out, "{\"path\":");
	escape_json(out, path);
	appendStringInfoString(out, ",\"old\":");
	if (old_value == NULL)
		appendStringInfoString(out, "null");
	else
		JsonbToCString(out, &old_value->root, VARSIZE(old_value));
	appendStringInfoString(out, ",\"new\":");
	if (new_value == NULL)
		appendStringInfoString(out, "null");
	else
		JsonbToCString(out, &new_value->root, VARSIZE(new_value));
	appendStringInfoChar(out, '}');
}

/*
 * IsObject
 *	  Is this value a JSON object?
 */
static bool
IsObject(const JsonbValue *value)
{
	return value != NULL && value->type == jbvBinary &&
		JsonContainerIsObject(value->val.binary.data);
}

/*
 * WithoutUnrecorded
 *	  A document recorded whole (a created or deleted job's meta) loses the
 *	  keys whose paths are not recorded.
 */
static Jsonb *
WithoutUnrecorded(Jsonb *doc, const char *path)
{
	const char *const *skip;
	int			len = strlen(path);

	if (!JB_ROOT_IS_OBJECT(doc))
		return doc;
	for (skip = UnrecordedPaths; *skip; skip++)
		if (strncmp(*skip, path, len) == 0 && (*skip)[len] == '.' &&
			strchr(*skip + len + 1, '.') == NULL)
			doc = DatumGetJsonbP(DirectFunctionCall2(jsonb_delete,
													 JsonbPGetDatum(doc),
													 CStringGetTextDatum(*skip + len + 1)));
	return doc;
}

/*
 * DiffValues
 *	  Compare two values at "path": objects key by key, anything else as a
 *	  whole (an array that changed is recorded old and new in full).
 */
static void
DiffValues(ChangeSet *changes, const char *path, JsonbValue *old_value,
		   JsonbValue *new_value)
{
	const char *const *skip;
	Jsonb	   *old_doc;
	Jsonb	   *new_doc;

	for (skip = UnrecordedPaths; *skip; skip++)
		if (strcmp(path, *skip) == 0)
			return;

	if (IsObject(old_value) && IsObject(new_value))
	{
		JsonbContainer *old_object = old_value->val.binary.data;
		JsonbContainer *new_object = new_value->val.binary.data;
		JsonbIterator *it;
		JsonbValue	key;
		JsonbIteratorToken token;

		/* Keys of the old object, whether or not the new one has them. */
		it = JsonbIteratorInit(old_object);
		while ((token = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
		{
			if (token != WJB_KEY)
				continue;
			DiffValues(changes,
					   psprintf("%s.%.*s", path, key.val.string.len,
								key.val.string.val),
					   getKeyJsonValueFromContainer(old_object,
													key.val.string.val,
													key.val.string.len, NULL),
					   getKeyJsonValueFromContainer(new_object,
													key.val.string.val,
													key.val.string.len, NULL));
		}
		/* Keys only the new object has. */
		it = JsonbIteratorInit(new_object);
		while ((token = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
		{
			if (token != WJB_KEY ||
				getKeyJsonValueFromContainer(old_object, key.val.string.val,
											 key.val.string.len, NULL) != NULL)
				continue;
			DiffValues(changes,
					   psprintf("%s.%.*s", path, key.val.string.len,
								key.val.string.val),
					   NULL,
					   getKeyJsonValueFromContainer(new_object,
													key.val.string.val,
													key.val.string.len, NULL));
		}
		return;
	}

	old_doc = old_value ? WithoutUnrecorded(JsonbValueToJsonb(old_value), path) : NULL;
	new_doc = new_value ? WithoutUnrecorded(JsonbValueToJsonb(new_value), path) : NULL;
	if (old_doc != NULL && new_doc != NULL &&
		compareJsonbContainers(&old_doc->root, &new_doc->root) == 0)
		return;
	ChangeSetAdd(changes, path, old_doc, new_doc);
}

/*
 * ChangeSetDiff
 *	  Add every difference between two documents, under "path".
 */
void
ChangeSetDiff(ChangeSet *changes, const char *path, Jsonb *old_doc,
			  Jsonb *new_doc)
{
	JsonbValue	old_buf;
	JsonbValue	new_buf;

	DiffValues(changes, path, JsonbDocumentAsValue(old_doc, &old_buf),
			   JsonbDocumentAsValue(new_doc, &new_buf));
}

/*
 * ChangelogWrite
 *	  Write the changelog row of one write, as the extension's owner (no
 *	  one else may write the changelog, so it can be trusted).  An update
 *	  that changed nothing leaves no row.
 */
void
ChangelogWrite(pg_uuid_t *job_config_id, const char *job_id,
			   const char *changed_by, const char *action, ChangeSet *changes)
{
	Datum		args[5];
	OwnerSection owner;

	if (changes->count == 0 && strcmp(action, "updated") == 0)
		return;

	appendStringInfoChar(&changes->json, ']');
	args[0] = UUIDPGetDatum(job_config_id);
	args[1] = CStringGetTextDatum(job_id);
	args[2] = CStringGetTextDatum(changed_by);
	args[3] = CStringGetTextDatum(action);
	args[4] = DirectFunctionCall1(jsonb_in, CStringGetDatum(changes->json.data));

	AccessBecomeOwner(&owner);
	CatalogExecute(&InsertChange, args, NULL, false, 0);
	AccessRestoreUser(&owner);
}
