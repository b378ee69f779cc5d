/*-------------------------------------------------------------------------
 *
 * notify_transfer.c
 *	  One delivery of an outbox row over libcurl: a Slack message POSTed as
 *	  JSON to the job's webhook URL, or a mail sent through the SMTP server
 *	  of jobconfig.smtp_url; and the judgement of how it went.
 *
 * Transfers run on the notifier's multi handle, many at once, never
 * blocking it.  libcurl calls back into this file while it works: those
 * callbacks copy into fixed buffers and never call palloc or ereport, whose
 * errors would unwind through libcurl's stack.
 *
 * What is retried: network errors, timeouts, HTTP 408, 425, 429 and 5xx,
 * and every SMTP failure (most are a server or configuration briefly out of
 * order).  What fails at once: an address the policy refuses
 * (notify_policy.c), another HTTP 4xx, a redirect (never followed, so a URL
 * cannot bounce the notifier elsewhere), a Slack URL that is gone because
 * its job was deleted.
 *
 * IDENTIFICATION
 *	  src/notify_transfer.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/socket.h>
#include <time.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "jobconfig.h"
#include "notify_policy.h"
#include "notify_transfer.h"

/* Transfer limits. */
#define CONNECT_TIMEOUT_S 10
#define TRANSFER_TIMEOUT_S 30

/* Longest line of the encoded mail body (RFC 2045 allows 76). */
#define QP_LINE_MAX 76

/*
 * OpenSocket
 *	  CURLOPT_OPENSOCKETFUNCTION: refuse internal addresses unless the host
 *	  is listed by name.  No palloc here.
 */
static curl_socket_t
OpenSocket(void *arg, curlsocktype purpose, struct curl_sockaddr *address)
{
	Delivery   *delivery = arg;
	const char *kind = NotifyAddressKind(&address->addr);

	if (kind != NULL && !delivery->host_listed)
	{
		snprintf(delivery->refusal, sizeof(delivery->refusal),
				 "refused: the URL's host resolves to a %s address, not allowed unless jobconfig.notify_allowed_hosts names the host",
				 kind);
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype, address->protocol);
}

/*
 * ReadRequest
 *	  CURLOPT_READFUNCTION: hand the mail to libcurl, piece by piece.
 */
static size_t
ReadRequest(char *buffer, size_t size, size_t nitems, void *arg)
{
	Delivery   *delivery = arg;
	size_t		left = delivery->request.len - delivery->request_sent;
	size_t		n = Min(left, size * nitems);

	memcpy(buffer, delivery->request.data + delivery->request_sent, n);
	delivery->request_sent += n;
	return n;
}

/*
 * KeepResponse
 *	  CURLOPT_WRITEFUNCTION: keep the start of the response, for the error
 *	  message of a refused delivery.
 */
static size_t
KeepResponse(char *data, size_t size, size_t nmemb, void *arg)
{
	Delivery   *delivery = arg;
	size_t		n = size * nmemb;
	size_t		keep = Min(n, DELIVERY_RESPONSE_KEEP - delivery->response_len);

	memcpy(delivery->response + delivery->response_len, data, keep);
	delivery->response_len += keep;
	delivery->response[delivery->response_len] = '\0';
	return n;
}

/*
 * EnvelopeAddress
 *	  The bare address of "Name <addr>" or "addr".
 */
static char *
EnvelopeAddress(const char *from)
{
	const char *open = strrchr(from, '<');
	const char *close = open ? strchr(open, '>') : NULL;

	if (open != NULL && close != NULL)
		return pnstrdup(open + 1, close - open - 1);
	return pstrdup(from);
}

/*
 * AppendQuotedPrintable
 *	  The body encoded as quoted-printable (RFC 2045): any bytes, in lines
 *	  short enough for every mail server, with CRLF line ends.
 */
static void
AppendQuotedPrintable(StringInfo out, const char *text)
{
	int			column = 0;
	const unsigned char *p;

	for (p = (const unsigned char *) text; *p != '\0'; p++)
	{
		char		encoded[4];
		bool		at_line_end = p[1] == '\0' || p[1] == '\n';

		if (*p == '\n')
		{
			appendStringInfoString(out, "\r\n");
			column = 0;
			continue;
		}
		if (*p == '\r')
			continue;
		if ((*p >= 33 && *p <= 126 && *p != '=') ||
			((*p == ' ' || *p == '\t') && !at_line_end))
			snprintf(encoded, sizeof(encoded), "%c", *p);
		else
			snprintf(encoded, sizeof(encoded), "=%02X", *p);
		if (column + (int) strlen(encoded) > QP_LINE_MAX - 1)
		{
			appendStringInfoString(out, "=\r\n");	/* soft line break */
			column = 0;
		}
		appendStringInfoString(out, encoded);
		column += strlen(encoded);
	}
	appendStringInfoString(out, "\r\n");
}

/*
 * AppendDate
 *	  The current time as an RFC 5322 date, in UTC.
 */
static void
AppendDate(StringInfo out)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t		now = time(NULL);
	struct tm	tm;

	gmtime_r(&now, &tm);
	appendStringInfo(out, "%s, %02d %s %04d %02d:%02d:%02d +0000",
					 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
					 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * BuildMail
 *	  The message, headers and body, as RFC 5322 and MIME want it.
 */
static void
BuildMail(Delivery *delivery, const char *sender)
{
	StringInfo	out = &delivery->request;
	const char *domain = strchr(sender, '@');
	ListCell   *lc;

	appendStringInfoString(out, "Date: ");
	AppendDate(out);
	appendStringInfo(out, "\r\nFrom: %s\r\nTo: ", jobconfig_smtp_from);
	/* One address per line (folded): 50 of them would not fit in 998 bytes. */
	foreach(lc, delivery->recipients)
		appendStringInfo(out, "%s%s", foreach_current_index(lc) > 0 ? ",\r\n " : "",
						 (char *) lfirst(lc));
	appendStringInfo(out, "\r\nSubject: %s\r\n", delivery->subject);
	appendStringInfo(out, "Message-ID: <jobconfig." INT64_FORMAT "." INT64_FORMAT "@%s>\r\n",
					 delivery->id, (int64) GetCurrentTimestamp(),
					 domain != NULL ? domain + 1 : "localhost");
	appendStringInfoString(out,
						   "MIME-Version: 1.0\r\n"
						   "Content-Type: text/plain; charset=utf-8\r\n"
						   "Content-Transfer-Encoding: quoted-printable\r\n"
						   "Auto-Submitted: auto-generated\r\n");
	appendStringInfo(out, "X-Jobconfig-Job: %s\r\n", delivery->job_id);
	if (delivery->execution_id != 0)
		appendStringInfo(out, "X-Jobconfig-Execution: " INT64_FORMAT "\r\n",
						 delivery->execution_id);
	appendStringInfoString(out, "\r\n");
	AppendQuotedPrintable(out, delivery->body);
}

/*
 * Refuse
 *	  The delivery cannot start: record why.
 */
static bool
Refuse(Delivery *delivery, DeliveryOutcome outcome, const char *error)
{
	delivery->outcome = outcome;
	delivery->error = pstrdup(error);
	delivery->status_code = 0;
	delivery->elapsed_ms = 0;
	return false;
}

/*
 * SetCommonOptions
 *	  What every transfer shares: no signals (this is a backend), bounded
 *	  time, no proxy from the environment, no redirects.
 */
static void
SetCommonOptions(Delivery *delivery)
{
	CURL	   *easy = delivery->easy;

	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, (long) CONNECT_TIMEOUT_S);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT, (long) TRANSFER_TIMEOUT_S);
	curl_easy_setopt(easy, CURLOPT_PROXY, "");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, delivery->curl_error);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, delivery);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, KeepResponse);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, delivery);
}

/*
 * StartSlack
 *	  POST {"text": body} to the job's Slack URL.
 */
static bool
StartSlack(Delivery *delivery)
{
	char	   *url;
	char	   *host = NULL;
	CURLU	   *parsed;
	HostListing listing;

	if (delivery->slack_url == NULL)
		return Refuse(delivery, DELIVERY_FAILED,
					  "the job was deleted, and its Slack URL with it");
	url = delivery->slack_url;
	if (jobconfig_notify_insecure_http && strncmp(url, "https://", 8) == 0)
		url = psprintf("http://%s", url + 8);

	parsed = curl_url();
	if (parsed == NULL ||
		curl_url_set(parsed, CURLUPART_URL, url, 0) != CURLUE_OK ||
		curl_url_get(parsed, CURLUPART_HOST, &host, 0) != CURLUE_OK)
	{
		if (parsed != NULL)
			curl_url_cleanup(parsed);
		return Refuse(delivery, DELIVERY_FAILED, "the Slack URL could not be parsed");
	}
	listing = NotifyHostListing(jobconfig_notify_allowed_hosts, host);
	if (listing == HOST_NOT_ALLOWED)
	{
		char	   *error = psprintf("refused: host \"%s\" is not allowed by jobconfig.notify_allowed_hosts", host);

		curl_free(host);
		curl_url_cleanup(parsed);
		return Refuse(delivery, DELIVERY_FAILED, error);
	}
	curl_free(host);
	curl_url_cleanup(parsed);
	delivery->host_listed = listing == HOST_LISTED;

	appendStringInfoString(&delivery->request, "{\"text\":");
	escape_json(&delivery->request, delivery->body);
	appendStringInfoChar(&delivery->request, '}');
	delivery->list = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");

	SetCommonOptions(delivery);
	curl_easy_setopt(delivery->easy, CURLOPT_URL, url);
	curl_easy_setopt(delivery->easy, CURLOPT_PROTOCOLS_STR,
					 jobconfig_notify_insecure_http ? "http,https" : "https");
	curl_easy_setopt(delivery->easy, CURLOPT_OPENSOCKETFUNCTION, OpenSocket);
	curl_easy_setopt(delivery->easy, CURLOPT_OPENSOCKETDATA, delivery);
	curl_easy_setopt(delivery->easy, CURLOPT_HTTPHEADER, delivery->list);
	curl_easy_setopt(delivery->easy, CURLOPT_POSTFIELDS, delivery->request.data);
	curl_easy_setopt(delivery->easy, CURLOPT_POSTFIELDSIZE, (long) delivery->request.len);
	curl_easy_setopt(delivery->easy, CURLOPT_USERAGENT, "jobconfig-notifier");
	return true;
}

/*
 * StartMail
 *	  Send the mail through jobconfig.smtp_url.  The server is the
 *	  superuser's choice, so the address policy does not apply to it.
 */
static bool
StartMail(Delivery *delivery)
{
	char	   *sender;
	ListCell   *lc;

	if (jobconfig_smtp_url == NULL || jobconfig_smtp_url[0] == '\0')
		return Refuse(delivery, DELIVERY_DEFERRED,
					  "jobconfig.smtp_url is not set; the mail is kept until it is");
	if (jobconfig_smtp_from == NULL || jobconfig_smtp_from[0] == '\0')
		return Refuse(delivery, DELIVERY_DEFERRED,
					  "jobconfig.smtp_from is not set; the mail is kept until it is");

	sender = EnvelopeAddress(jobconfig_smtp_from);
	BuildMail(delivery, sender);
	foreach(lc, delivery->recipients)
		delivery->list = curl_slist_append(delivery->list,
										   psprintf("<%s>", (char *) lfirst(lc)));

	SetCommonOptions(delivery);
	curl_easy_setopt(delivery->easy, CURLOPT_URL, jobconfig_smtp_url);
	curl_easy_setopt(delivery->easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(delivery->easy, CURLOPT_USE_SSL, (long) CURLUSESSL_TRY);
	curl_easy_setopt(delivery->easy, CURLOPT_MAIL_FROM, psprintf("<%s>", sender));
	curl_easy_setopt(delivery->easy, CURLOPT_MAIL_RCPT, delivery->list);
	if (jobconfig_smtp_user != NULL && jobconfig_smtp_user[0] != '\0')
	{
		curl_easy_setopt(delivery->easy, CURLOPT_USERNAME, jobconfig_smtp_user);
		curl_easy_setopt(delivery->easy, CURLOPT_PASSWORD,
						 jobconfig_smtp_password ? jobconfig_smtp_password : "");
	}
	curl_easy_setopt(delivery->easy, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(delivery->easy, CURLOPT_READFUNCTION, ReadRequest);
	curl_easy_setopt(delivery->easy, CURLOPT_READDATA, delivery);
	curl_easy_setopt(delivery->easy, CURLOPT_INFILESIZE, (long) delivery->request.len);
	return true;
}

/*
 * DeliveryStart
 *	  Prepare the transfer and add it to multi.  False when it cannot
 *	  start: the outcome and error say why.  Memory is allocated in the
 *	  current context, which must outlive the transfer.
 */
bool
DeliveryStart(CURLM *multi, Delivery *delivery)
{
	bool		ready;

	initStringInfo(&delivery->request);
	delivery->request_sent = 0;
	delivery->response_len = 0;
	delivery->response[0] = '\0';
	delivery->refusal[0] = '\0';
	delivery->curl_error[0] = '\0';
	delivery->list = NULL;
	delivery->started_at = GetCurrentTimestamp();
	delivery->easy = curl_easy_init();
	if (delivery->easy == NULL)
		return Refuse(delivery, DELIVERY_RETRY, "libcurl could not create a transfer");

	ready = strcmp(delivery->channel, "slack") == 0 ?
		StartSlack(delivery) : StartMail(delivery);
	if (ready && curl_multi_add_handle(multi, delivery->easy) != CURLM_OK)
		ready = Refuse(delivery, DELIVERY_RETRY, "libcurl could not start the transfer");
	if (!ready)
	{
		curl_easy_cleanup(delivery->easy);
		curl_slist_free_all(delivery->list);
		delivery->easy = NULL;
		delivery->list = NULL;
	}
	return ready;
}

/*
 * ResponseText
 *	  The kept start of a response, as one line of printable ASCII: it
 *	  goes into a text column, and servers send anything.
 */
static char *
ResponseText(Delivery *delivery)
{
	char	   *text = pnstrdup(delivery->response, delivery->response_len);
	char	   *p;

	for (p = text; *p != '\0'; p++)
		if ((unsigned char) *p < 32 || (unsigned char) *p > 126)
			*p = ' ';
	return text;
}

/*
 * JudgeHttp
 *	  The outcome of a completed HTTP exchange.
 */
static void
JudgeHttp(Delivery *delivery)
{
	long		code = delivery->status_code;

	if (code >= 200 && code < 300)
	{
		delivery->outcome = DELIVERY_DELIVERED;
		return;
	}
	delivery->outcome = (code >= 500 || code == 408 || code == 425 || code == 429) ?
		DELIVERY_RETRY : DELIVERY_FAILED;
	if (code >= 300 && code < 400)
		delivery->error = psprintf("HTTP %ld: redirects are not followed; give the final URL", code);
	else
		delivery->error = psprintf("HTTP %ld%s%s", code,
								   delivery->response_len > 0 ? ": " : "",
								   ResponseText(delivery));
}

/*
 * DeliveryDone
 *	  The transfer ended with code: judge it and release libcurl's handle.
 */
void
DeliveryDone(CURLM *multi, Delivery *delivery, CURLcode code)
{
	bool		is_slack = strcmp(delivery->channel, "slack") == 0;

	curl_easy_getinfo(delivery->easy, CURLINFO_RESPONSE_CODE, &delivery->status_code);
	delivery->elapsed_ms = (int) (TimestampDifferenceMilliseconds(delivery->started_at,
																  GetCurrentTimestamp()));
	delivery->error = NULL;

	if (delivery->refusal[0] != '\0')
	{
		delivery->outcome = DELIVERY_FAILED;
		delivery->error = pstrdup(delivery->refusal);
	}
	else if (code == CURLE_OK && is_slack)
		JudgeHttp(delivery);
	else if (code == CURLE_OK)
		delivery->outcome = DELIVERY_DELIVERED;
	else
	{
		delivery->outcome = (code == CURLE_UNSUPPORTED_PROTOCOL ||
							 code == CURLE_URL_MALFORMAT) ? DELIVERY_FAILED : DELIVERY_RETRY;
		delivery->error = psprintf("%s%s%s%s",
								   curl_easy_strerror(code),
								   delivery->curl_error[0] != '\0' ? ": " : "",
								   delivery->curl_error,
								   delivery->status_code > 0 && !is_slack ?
								   psprintf(" (SMTP reply %ld)", delivery->status_code) : "");
	}

	curl_multi_remove_handle(multi, delivery->easy);
	curl_easy_cleanup(delivery->easy);
	curl_slist_free_all(delivery->list);
	delivery->easy = NULL;
	delivery->list = NULL;
}
