/*-------------------------------------------------------------------------
 *
 * schedule_fire.h
 *	  Turning due schedule slots into execution records.
 *
 * IDENTIFICATION
 *	  src/schedule_fire.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_SCHEDULE_FIRE_H
#define JOBCONFIG_SCHEDULE_FIRE_H

#include "schedule_table.h"

extern int	ScheduleFire(List *jobs, TimestampTz now);
extern int	ScheduleFirePersist(void);
extern void ScheduleFireWithdraw(List *ids, bool due_too);
extern void ScheduleFireReboot(List *jobs, TimestampTz start);

#endif							/* JOBCONFIG_SCHEDULE_FIRE_H */
