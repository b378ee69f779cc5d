/*-------------------------------------------------------------------------
 *
 * run_log.h
 *	  Capturing what a job says while it runs.
 *
 * IDENTIFICATION
 *	  src/run_log.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_RUN_LOG_H
#define JOBCONFIG_RUN_LOG_H

#include "utils/elog.h"
#include "utils/jsonb.h"

extern void RunLogInstall(void);
extern void RunLogBegin(void);
extern void RunLogEnd(void);
extern void RunLogClipError(ErrorData *error);
extern Jsonb *RunLogBuild(const char *command_tag, uint64 rows,
						  ErrorData *error);

#endif							/* JOBCONFIG_RUN_LOG_H */
