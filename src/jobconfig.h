/*-------------------------------------------------------------------------
 *
 * jobconfig.h
 *	  Settings and module entry points shared across jobconfig.
 *
 * Each module exposes one XxxInit() that _PG_init calls; settings live in
 * jobconfig.c and are read here as plain C variables.
 *
 * IDENTIFICATION
 *	  src/jobconfig.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_H
#define JOBCONFIG_H

/* Name of the extension's schema; every object lives there. */
#define JOBCONFIG_SCHEMA "jobconfig"

/* Settings (see jobconfig.c for their documentation). */
extern char *jobconfig_reader_roles;
extern char *jobconfig_writer_roles;
extern bool jobconfig_enabled;
extern int	jobconfig_max_workers;
extern int	jobconfig_max_databases;
extern int	jobconfig_log_max_bytes;
extern int	jobconfig_history_days;
extern int	jobconfig_retention_batch_size;
extern int	jobconfig_webhook_max_bytes;
extern bool jobconfig_notify_events;
extern char *jobconfig_smtp_url;
extern char *jobconfig_smtp_from;
extern char *jobconfig_smtp_user;
extern char *jobconfig_smtp_password;
extern char *jobconfig_notify_allowed_hosts;
extern bool jobconfig_notify_insecure_http;
extern int	jobconfig_notify_retry_delay;
extern int	jobconfig_notify_max_attempts;

/* True when the library was loaded through shared_preload_libraries. */
extern bool jobconfig_preloaded;

/* Module entry points called from _PG_init (preloaded only). */
extern void LauncherRegister(void);
extern void WakeupRegister(void);
extern void DatabaseHooksRegister(void);

#endif							/* JOBCONFIG_H */
