/*-------------------------------------------------------------------------
 *
 * wakeup.h
 *	  Wake-ups sent at commit.
 *
 * IDENTIFICATION
 *	  src/wakeup.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_WAKEUP_H
#define JOBCONFIG_WAKEUP_H

#include "utils/uuid.h"

#include "shmem.h"

extern void WakeupExecutorsAtCommit(void);
extern void WakeupSchedulerAtCommit(const pg_uuid_t *job_config_id);
extern bool WakeupRequestCancel(int64 execution_id, CancelReason reason,
								const char *by);
extern void WakeupCancelAtCommit(int64 execution_id, CancelReason reason,
								 const char *by);

#endif							/* JOBCONFIG_WAKEUP_H */
