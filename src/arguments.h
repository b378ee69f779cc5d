/*-------------------------------------------------------------------------
 *
 * arguments.h
 *	  The null rule of jobconfig's SQL-callable C functions.
 *
 * IDENTIFICATION
 *	  src/arguments.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_ARGUMENTS_H
#define JOBCONFIG_ARGUMENTS_H

#include "fmgr.h"

extern void ArgumentsRequire(FunctionCallInfo fcinfo);

#endif							/* JOBCONFIG_ARGUMENTS_H */
