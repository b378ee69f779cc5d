/*-------------------------------------------------------------------------
 *
 * own_settings.h
 *	  The settings jobconfig's own statements run with, and those a job
 *	  runs with.
 *
 * IDENTIFICATION
 *	  src/own_settings.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_OWN_SETTINGS_H
#define JOBCONFIG_OWN_SETTINGS_H

#include "postgres.h"

/* The search_path of every statement of jobconfig's own. */
#define OWN_SEARCH_PATH "pg_catalog, pg_temp"

extern int	OwnSettingsEnter(void);
extern void OwnSettingsLeave(int nest);
extern void ServerSettingsCapture(void);
extern void ServerSettingsRestore(void);
extern int	ServerSettingsEnter(void);
extern void RoleSettingsLoad(void);
extern void RoleSettingsApply(Oid role);

#endif							/* JOBCONFIG_OWN_SETTINGS_H */
