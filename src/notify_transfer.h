/*-------------------------------------------------------------------------
 *
 * notify_transfer.h
 *	  One delivery of an outbox row over libcurl: a Slack (HTTP) POST or an
 *	  SMTP mail, and how its result is judged.
 *
 * IDENTIFICATION
 *	  src/notify_transfer.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_NOTIFY_TRANSFER_H
#define JOBCONFIG_NOTIFY_TRANSFER_H

#include <curl/curl.h>

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

/* How an attempt ended. */
typedef enum DeliveryOutcome
{
	DELIVERY_DELIVERED,
	DELIVERY_RETRY,				/* network error, 5xx, 429: try again later */
	DELIVERY_FAILED,			/* refused for good: no point in retrying */
	DELIVERY_DEFERRED			/* not tried: the mail server is not configured */
} DeliveryOutcome;

/* Bytes of an HTTP error response kept for last_error. */
#define DELIVERY_RESPONSE_KEEP 200

typedef struct Delivery
{
	/* The outbox row. */
	int64		id;
	int64		execution_id;	/* 0 when the run was deleted */
	char	   *job_id;
	char	   *channel;		/* "email" or "slack" */
	List	   *recipients;		/* of char *, email only */
	char	   *subject;
	char	   *body;
	char	   *slack_url;		/* NULL when the job is gone */

	/* The transfer; callbacks touch only fixed buffers, never palloc. */
	CURL	   *easy;
	struct curl_slist *list;	/* HTTP headers or SMTP recipients */
	StringInfoData request;		/* what is sent */
	size_t		request_sent;
	char		response[DELIVERY_RESPONSE_KEEP + 1];
	size_t		response_len;
	char		refusal[256];	/* set when the address policy refused */
	bool		host_listed;
	char		curl_error[CURL_ERROR_SIZE];
	TimestampTz started_at;

	/* The result. */
	DeliveryOutcome outcome;
	long		status_code;	/* HTTP status or SMTP reply code, 0 if none */
	char	   *error;			/* NULL when delivered */
	int			elapsed_ms;
} Delivery;

extern bool DeliveryStart(CURLM *multi, Delivery *delivery);
extern void DeliveryDone(CURLM *multi, Delivery *delivery, CURLcode code);

#endif							/* JOBCONFIG_NOTIFY_TRANSFER_H */
