/*-------------------------------------------------------------------------
 *
 * changelog.h
 *	  The record of configuration changes: who, when, and the old and new
 *	  value of each changed path.
 *
 * IDENTIFICATION
 *	  src/changelog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_CHANGELOG_H
#define JOBCONFIG_CHANGELOG_H

#include "lib/stringinfo.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

/* The changes of one write, as a JSON array under construction. */
typedef struct ChangeSet
{
	StringInfoData json;		/* "[{...},{...}" until finished */
	int			count;
} ChangeSet;

extern void ChangeSetInit(ChangeSet *changes);
extern void ChangeSetAdd(ChangeSet *changes, const char *path,
						 Jsonb *old_value, Jsonb *new_value);
extern void ChangeSetDiff(ChangeSet *changes, const char *path,
						  Jsonb *old_doc, Jsonb *new_doc);
extern void ChangelogWrite(pg_uuid_t *job_config_id, const char *job_id,
						   const char *changed_by, const char *action,
						   ChangeSet *changes);

#endif							/* JOBCONFIG_CHANGELOG_H */
