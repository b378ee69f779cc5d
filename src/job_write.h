/*-------------------------------------------------------------------------
 *
 * job_write.h
 *	  The triggers on jobconfig.job_configs.
 *
 * IDENTIFICATION
 *	  src/job_write.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_JOB_WRITE_H
#define JOBCONFIG_JOB_WRITE_H

/*
 * Set by the scheduler around its own update of next_run_at, the one
 * column it owns; the write trigger then leaves the row as it is.
 */
extern bool JobWriteBypass;

#endif							/* JOBCONFIG_JOB_WRITE_H */
