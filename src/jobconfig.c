/*-------------------------------------------------------------------------
 *
 * jobconfig.c
 *	  Library entry point: settings and module initialisation.
 *
 * This file holds only _PG_init, the jobconfig.* settings and the calls
 * that let each module register what it needs.  Everything else lives in
 * a file of its own concern.
 *
 * IDENTIFICATION
 *	  src/jobconfig.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "jobconfig.h"
#include "notify_policy.h"
#include "shmem.h"

PG_MODULE_MAGIC;

char	   *jobconfig_reader_roles = NULL;
char	   *jobconfig_writer_roles = NULL;
bool		jobconfig_enabled = true;
int			jobconfig_max_workers = 4;
int			jobconfig_max_databases = 8;
int			jobconfig_log_max_bytes = 65536;
int			jobconfig_history_days = 30;
int			jobconfig_retention_batch_size = 1000;
int			jobconfig_webhook_max_bytes = 1024 * 1024;
bool		jobconfig_notify_events = true;
char	   *jobconfig_smtp_url = NULL;
char	   *jobconfig_smtp_from = NULL;
char	   *jobconfig_smtp_user = NULL;
char	   *jobconfig_smtp_password = NULL;
char	   *jobconfig_notify_allowed_hosts = NULL;
bool		jobconfig_notify_insecure_http = false;
int			jobconfig_notify_retry_delay = 10;
int			jobconfig_notify_max_attempts = 8;
bool		jobconfig_preloaded = false;

void		_PG_init(void);

/*
 * CheckAllowedHosts
 *	  GUC check hook of jobconfig.notify_allowed_hosts: a list of host
 *	  names, "*" or "*.domain".
 */
static bool
CheckAllowedHosts(char **newval, void **extra, GucSource source)
{
	const char *problem = NotifyAllowedHostsProblem(*newval);

	if (problem != NULL)
	{
		GUC_check_errdetail("%s", problem);
		return false;
	}
	return true;
}

/*
 * DefineNotificationSettings
 *	  The settings of webhooks, of the notifier and of the events channel.
 *	  Where the notifier sends, and with which credentials, is a
 *	  superuser's decision: a job's writer names only recipients and a
 *	  Slack URL, checked against these.
 */
static void
DefineNotificationSettings(void)
{
	DefineCustomIntVariable("jobconfig.webhook_max_bytes",
							"Largest body receive_webhook() accepts.",
							"Larger bodies are refused before their signature is checked.",
							&jobconfig_webhook_max_bytes,
							1024 * 1024, 1, 64 * 1024 * 1024,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("jobconfig.notify_events",
							 "Sends every execution state change on the NOTIFY channel jobconfig_events.",
							 NULL,
							 &jobconfig_notify_events,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("jobconfig.smtp_url",
							   "SMTP server of email notifications, as smtp://host:port or smtps://host:port.",
							   "smtp:// upgrades to TLS when the server offers STARTTLS. "
							   "Empty: mails wait in the outbox until it is set.",
							   &jobconfig_smtp_url,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("jobconfig.smtp_from",
							   "Sender of email notifications, as addr@example.com or Name <addr@example.com>.",
							   NULL,
							   &jobconfig_smtp_from,
							   "",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("jobconfig.smtp_user",
							   "User name for the SMTP server; empty: no authentication.",
							   NULL,
							   &jobconfig_smtp_user,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("jobconfig.smtp_password",
							   "Password for the SMTP server.",
							   NULL,
							   &jobconfig_smtp_password,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("jobconfig.notify_allowed_hosts",
							   "Hosts Slack notifications may be sent to.",
							   "A comma-separated list: host names, \"*.example.com\" "
							   "for subdomains, \"*\" for any host. Loopback, "
							   "private and link-local addresses are refused "
							   "unless their host is listed by name.",
							   &jobconfig_notify_allowed_hosts,
							   "*",
							   PGC_SIGHUP,
							   GUC_LIST_INPUT,
							   CheckAllowedHosts, NULL, NULL);

	DefineCustomBoolVariable("jobconfig.notify_insecure_http",
							 "Sends Slack notifications over plain HTTP (for tests with a local sink only).",
							 "The https:// of each Slack URL is replaced by http://.",
							 &jobconfig_notify_insecure_http,
							 false,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("jobconfig.notify_retry_delay",
							"Delay before the first retry of a notification that could not be delivered.",
							"Each further retry waits three times longer, at most an hour.",
							&jobconfig_notify_retry_delay,
							10, 1, 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("jobconfig.notify_max_attempts",
							"Delivery attempts of a notification before it is marked failed.",
							NULL,
							&jobconfig_notify_max_attempts,
							8, 1, 100,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
}

/*
 * _PG_init
 *	  Define the settings and, when preloaded, register the workers.
 *
 * Role settings are PGC_SUSET: they decide who may read and write jobs,
 * so only a superuser may change them (and placeholder values set by
 * anyone else before the library loaded are discarded by the GUC code).
 */
void
_PG_init(void)
{
	jobconfig_preloaded = process_shared_preload_libraries_in_progress;

	DefineCustomStringVariable("jobconfig.reader_roles",
							   "Roles that may read jobs and their history.",
							   "A comma-separated list of role names; members "
							   "of these roles (and of the writer roles) may "
							   "read. Roles that do not exist are ignored.",
							   &jobconfig_reader_roles,
							   "authenticated",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("jobconfig.writer_roles",
							   "Roles that may create, change and run jobs.",
							   "A comma-separated list of role names. Roles "
							   "that do not exist are ignored.",
							   &jobconfig_writer_roles,
							   "service_role",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("jobconfig.enabled",
							 "Fires and runs jobs when on; off pauses all of them.",
							 "Runs in progress finish; schedule slots that pass "
							 "while off are missed runs, handled by each job's "
							 "missedRuns policy when it is turned back on.",
							 &jobconfig_enabled,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("jobconfig.log_max_bytes",
							"Size at which a run's captured log is truncated.",
							"Messages beyond it are dropped and the log is "
							"marked truncated; the error is always kept.",
							&jobconfig_log_max_bytes,
							65536, 1024, 16 * 1024 * 1024,
							PGC_SIGHUP,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("jobconfig.history_days",
							"Days finished executions are kept, unless a job says otherwise.",
							"0 keeps them forever.",
							&jobconfig_history_days,
							30, 0, 36500,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("jobconfig.retention_batch_size",
							"Executions deleted per transaction by history retention.",
							NULL,
							&jobconfig_retention_batch_size,
							1000, 10, 100000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineNotificationSettings();

	/*
	 * The rest sizes shared memory and starts workers, which only a library
	 * loaded at server start may do.
	 */
	if (!jobconfig_preloaded)
	{
		MarkGUCPrefixReserved("jobconfig");
		return;
	}

	DefineCustomIntVariable("jobconfig.max_workers",
							"Executors (persistent background workers) per database.",
							"Each database with jobconfig uses this many "
							"background workers, plus one scheduler and, for the "
							"server, one launcher: raise max_worker_processes "
							"to match.",
							&jobconfig_max_workers,
							4, 1, 64,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("jobconfig.max_databases",
							"Databases that may run jobconfig at the same time.",
							NULL,
							&jobconfig_max_databases,
							8, 1, 1024,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	/* After every definition: it drops unknown placeholders. */
	MarkGUCPrefixReserved("jobconfig");

	ShmemRegister();
	WakeupRegister();
	DatabaseHooksRegister();
	LauncherRegister();
}
