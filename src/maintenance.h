/*-------------------------------------------------------------------------
 *
 * maintenance.h
 *	  The scheduler's housekeeping: interrupted runs and history retention.
 *
 * IDENTIFICATION
 *	  src/maintenance.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_MAINTENANCE_H
#define JOBCONFIG_MAINTENANCE_H

extern uint64 MaintenanceRecoverRuns(void);
extern uint64 MaintenanceWorkerGone(pid_t pid, bool terminated_for_timeout);
extern uint64 MaintenanceDeleteHistory(void);

#endif							/* JOBCONFIG_MAINTENANCE_H */
