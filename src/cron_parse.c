/*-------------------------------------------------------------------------
 *
 * cron_parse.c
 *	  Compile a cron schedule string into a CronSchedule.
 *
 * The grammar is pg_cron's, so that schedules move between the two
 * unchanged, with the places where pg_cron silently accepts nonsense turned
 * into errors.  The parser is pure: it reads only the string it is given
 * (never past its terminating NUL), allocates with palloc only, and reports
 * problems as a detail sentence instead of raising them, so the payload
 * validator can collect them and the fuzz harness can run it without a
 * server.
 *
 * Accepted forms (after leading blank lines and '#' comment lines, which
 * pg_cron skips as a crontab would):
 *
 *	 minute hour day-of-month month day-of-week
 *		Fields are separated by spaces and tabs.  Each field is a list of
 *		elements separated by ',' with no spaces; an element is '*', a value,
 *		or a range 'a-b', each optionally followed by '/step'.  Month and
 *		day-of-week values may be three-letter English names in any case.
 *		The day-of-month field may instead be '$' alone: the last day of the
 *		month.
 *	 @yearly @annually @monthly @weekly @daily @midnight @hourly
 *		Shorthands for the five-field forms below (any case).
 *	 @reboot @restart
 *		Once each time the scheduler starts.
 *	 N second | N seconds
 *		An interval of N seconds, 1 <= N <= 59, any case, spaces optional.
 *
 * Choices where pg_cron is lax or silent (each documented where it is made):
 * a sixth field, text after the last field, text after an @keyword,
 * reversed ranges, steps of 0 or beyond the field, out-of-range values and
 * day-of-month/month combinations that can never occur are errors.
 *
 * Error details follow one form: lower-case first, no trailing period,
 * naming the field, the value at fault and the allowed range, e.g.
 * "value 61 is out of range for the minute field (0-59)".
 *
 * IDENTIFICATION
 *	  src/cron_parse.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "port/pg_bitutils.h"

#include "cron.h"

/* The five fields, in order. */
typedef enum CronFieldId
{
	FIELD_MINUTE,
	FIELD_HOUR,
	FIELD_DAY_OF_MONTH,
	FIELD_MONTH,
	FIELD_DAY_OF_WEEK,
	FIELD_COUNT
} CronFieldId;

/* What the parser knows about one field. */
typedef struct CronFieldSpec
{
	const char *name;			/* as used in error details */
	int			low;			/* smallest value */
	int			high;			/* largest value (7 for day of week) */
	const char *const *names;	/* three-letter names for low.., or NULL */
	const char *range_text;		/* allowed values, for error details */
} CronFieldSpec;

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};

static const char *const day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

static const CronFieldSpec field_specs[FIELD_COUNT] = {
	{"minute", 0, 59, NULL, "0-59"},
	{"hour", 0, 23, NULL, "0-23"},
	{"day-of-month", 1, 31, NULL, "1-31 or $"},
	{"month", 1, 12, month_names, "1-12 or jan-dec"},
	{"day-of-week", 0, 7, day_names, "0-7 or sun-sat"},
};

/* Full month names for error details. */
static const char *const month_display[] = {
	"", "January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"
};

/* The longest each month can be (February in a leap year). */
static const int month_max_days[] = {
	0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
};

/* The @keywords and the five-field schedules they stand for. */
typedef struct CronKeyword
{
	const char *name;
	const char *fields;			/* NULL for @reboot/@restart */
} CronKeyword;

static const CronKeyword keywords[] = {
	{"yearly", "0 0 1 1 *"},
	{"annually", "0 0 1 1 *"},
	{"monthly", "0 0 1 * *"},
	{"weekly", "0 0 * * 0"},
	{"daily", "0 0 * * *"},
	{"midnight", "0 0 * * *"},
	{"hourly", "0 * * * *"},
	{"reboot", NULL},
	{"restart", NULL},
};

/* Longest piece of user text quoted back in a detail. */
#define CRON_QUOTE_MAX 32

/* A value token, as written, with its position. */
typedef struct CronToken
{
	const char *start;
	int			len;
} CronToken;

/* Parsing state for one five-field schedule. */
typedef struct CronParser
{
	CronSchedule *schedule;
	const char *field_start;	/* the field being parsed, for details */
	const char *field_end;
	char	   *detail;			/* set on the first error */
} CronParser;

static bool CronParseFields(CronParser *parser, const char *p,
							const char *end);
static bool CronParseField(CronParser *parser, CronFieldId field,
						   const char *p, const char *end, uint64 *bits);
static const char *CronParseElement(CronParser *parser, CronFieldId field,
									const char *p, const char *end,
									uint64 *bits);
static const char *CronParseValue(CronParser *parser, CronFieldId field,
								  const char *p, const char *end,
								  int *value);
static const char *CronParseStep(CronParser *parser, CronFieldId field,
								 const char *p, const char *end, int *step);
static bool CronParseInterval(const char *p, const char *end,
							  CronSchedule *schedule, char **detail,
							  bool *matched);
static bool CronParseKeyword(const char *p, const char *end,
							 CronSchedule *schedule, char **detail);
static bool CronCheckDatesOccur(CronParser *parser);
static void CronUnexpected(CronParser *parser, CronFieldId field,
						   const char *p);
static char *CronQuote(const char *start, int len);
static bool CronIsBlank(char c);
static bool CronIsSpace(char c);
static bool CronIsDigit(char c);
static bool CronIsAlpha(char c);
static bool CronEqualsFolded(const char *start, int len, const char *word);

/*
 * CronParse
 *	  Compile "text" into *schedule; see the file header for the grammar.
 *
 * Returns true on success.  On failure returns false and sets *detail to a
 * palloc'd sentence for errdetail; *schedule is then unspecified.
 */
bool
CronParse(const char *text, CronSchedule *schedule, char **detail)
{
	const char *p = text;
	const char *end;
	bool		matched;
	CronParser	parser;

	memset(schedule, 0, sizeof(CronSchedule));
	*detail = NULL;

	/*
	 * Skip leading white space, blank lines and whole '#' comment lines, as
	 * pg_cron does (its parser is Vixie cron's crontab reader).  A '#' after
	 * the schedule is not a comment but trailing text, and is refused.
	 */
	for (;;)
	{
		while (CronIsSpace(*p))
			p++;
		if (*p != '#')
			break;
		while (*p != '\0' && *p != '\n')
			p++;
	}

	/* Trailing white space of any kind (pg_cron ignores it too). */
	end = p + strlen(p);
	while (end > p && CronIsSpace(end[-1]))
		end--;

	if (p == end)
	{
		*detail = pstrdup("the schedule is empty; expected five fields "
						  "(minute hour day-of-month month day-of-week), "
						  "an @keyword such as @daily, or \"N seconds\" "
						  "(1-59)");
		return false;
	}

	if (*p == '@')
		return CronParseKeyword(p + 1, end, schedule, detail);

	if (!CronParseInterval(p, end, schedule, detail, &matched))
		return false;
	if (matched)
		return true;

	parser.schedule = schedule;
	parser.detail = NULL;
	if (!CronParseFields(&parser, p, end))
	{
		*detail = parser.detail;
		return false;
	}
	return true;
}

/*
 * CronParseKeyword
 *	  Compile an @keyword; p points just after the '@'.
 *
 * pg_cron compares keywords case-sensitively; we accept any case, as we do
 * for names and the seconds unit, since "@Daily" has only one meaning.
 * pg_cron ignores anything after the keyword; we refuse it.
 */
static bool
CronParseKeyword(const char *p, const char *end, CronSchedule *schedule,
				 char **detail)
{
	const char *word_end = p;
	int			i;

	while (word_end < end && !CronIsSpace(*word_end))
		word_end++;

	for (i = 0; i < lengthof(keywords); i++)
	{
		CronParser	parser;
		const char *fields;

		if (!CronEqualsFolded(p, (int) (word_end - p), keywords[i].name))
			continue;

		if (word_end != end)
		{
			const char *rest = word_end;

			while (CronIsSpace(*rest))
				rest++;
			*detail = psprintf("unexpected text \"%s\" after @%s; an "
							   "@keyword stands alone",
							   CronQuote(rest, (int) (end - rest)),
							   keywords[i].name);
			return false;
		}

		if (keywords[i].fields == NULL)
		{
			schedule->kind = CRON_KIND_REBOOT;
			return true;
		}

		/* The shorthands are exactly their five-field forms. */
		fields = keywords[i].fields;
		parser.schedule = schedule;
		parser.detail = NULL;
		if (!CronParseFields(&parser, fields, fields + strlen(fields)))
		{
			*detail = parser.detail;
			return false;
		}
		return true;
	}

	*detail = psprintf("unknown keyword \"@%s\"; expected @yearly, "
					   "@annually, @monthly, @weekly, @daily, @midnight, "
					   "@hourly, @reboot or @restart",
					   CronQuote(p, (int) (word_end - p)));
	return false;
}

/*
 * CronParseInterval
 *	  Recognise "N second" / "N seconds" and compile it.
 *
 * Sets *matched when the text has the interval's shape (digits, optional
 * white space, then a word, and nothing else); only then can it fail with a
 * detail.  pg_cron reads this form with sscanf(" %u secon%c%c %c"), so, like
 * it, we allow any white space (or none) between number and unit, either
 * "second" or "seconds" whatever N is, any case, a leading '+', and leading
 * zeros.  Other units ("5 minutes") are refused with a detail that says what
 * is supported, since they are plainly meant as intervals.
 */
static bool
CronParseInterval(const char *p, const char *end, CronSchedule *schedule,
				  char **detail, bool *matched)
{
	const char *digits;
	const char *digits_end;
	const char *unit;
	int			value = 0;

	*matched = false;
	if (*p == '+')
		p++;
	digits = p;
	while (p < end && CronIsDigit(*p))
	{
		/* Saturate: anything this long is out of range anyway. */
		if (value < 1000)
			value = value * 10 + (*p - '0');
		p++;
	}
	digits_end = p;
	if (digits == digits_end)
		return true;
	while (p < end && CronIsSpace(*p))
		p++;
	unit = p;
	while (p < end && CronIsAlpha(*p))
		p++;
	if (unit == p || p != end)
		return true;

	*matched = true;
	if (!CronEqualsFolded(unit, (int) (end - unit), "second") &&
		!CronEqualsFolded(unit, (int) (end - unit), "seconds"))
	{
		*detail = psprintf("unknown interval unit \"%s\"; only seconds are "
						   "supported (\"N seconds\", 1-59), other intervals "
						   "need the five-field form",
						   CronQuote(unit, (int) (end - unit)));
		return false;
	}
	if (value < 1 || value > 59)
	{
		*detail = psprintf("value %s is out of range for the seconds "
						   "interval (1-59)",
						   CronQuote(digits, (int) (digits_end - digits)));
		return false;
	}
	schedule->kind = CRON_KIND_INTERVAL;
	schedule->interval_seconds = value;
	return true;
}

/*
 * CronParseFields
 *	  Compile the five-field form held in [p, end).
 *
 * Fields are separated by runs of spaces and tabs, as in pg_cron; [p, end)
 * has no leading or trailing white space.  pg_cron ignores everything after
 * the fifth field, so a six-field (seconds-first or year-last) schedule
 * silently means something else there; we refuse it.
 */
static bool
CronParseFields(CronParser *parser, const char *p, const char *end)
{
	CronSchedule *schedule = parser->schedule;
	uint64		bits[FIELD_COUNT];
	int			field;

	schedule->kind = CRON_KIND_FIELDS;
	for (field = 0; field < FIELD_COUNT; field++)
	{
		const char *field_end;

		if (p == end)
		{
			parser->detail =
				psprintf("the %s field is missing (%s); a schedule has five "
						 "fields: minute hour day-of-month month "
						 "day-of-week",
						 field_specs[field].name,
						 field_specs[field].range_text);
			return false;
		}
		field_end = p;
		while (field_end < end && !CronIsBlank(*field_end))
			field_end++;

		if (!CronParseField(parser, (CronFieldId) field, p, field_end,
							&bits[field]))
			return false;

		p = field_end;
		while (p < end && CronIsBlank(*p))
			p++;
	}

	if (p != end)
	{
		const char *extra_end = p;

		while (extra_end < end && !CronIsBlank(*extra_end))
			extra_end++;
		parser->detail =
			psprintf("unexpected sixth field \"%s\"; a schedule has five "
					 "fields: minute hour day-of-month month day-of-week",
					 CronQuote(p, (int) (extra_end - p)));
		return false;
	}

	schedule->minutes = bits[FIELD_MINUTE];
	schedule->hours = (uint32) bits[FIELD_HOUR];
	schedule->days_of_month = (uint32) bits[FIELD_DAY_OF_MONTH];
	schedule->months = (uint16) bits[FIELD_MONTH];

	/* Day 7 is Sunday too (pg_cron sets both; we keep bits 0-6 only). */
	if (bits[FIELD_DAY_OF_WEEK] & (UINT64CONST(1) << 7))
		bits[FIELD_DAY_OF_WEEK] |= 1;
	schedule->days_of_week = (uint8) (bits[FIELD_DAY_OF_WEEK] & 0x7F);

	return CronCheckDatesOccur(parser);
}

/*
 * CronParseField
 *	  Compile one field held in [p, end) into *bits (bit i = value i).
 *
 * Also records the flags that steer the Vixie day rule and the DST rule:
 * a field "is a star" when its text begins with '*', exactly as pg_cron and
 * Vixie cron decide it (so '*' with a step counts, "1-31" does not).
 */
static bool
CronParseField(CronParser *parser, CronFieldId field, const char *p,
			   const char *end, uint64 *bits)
{
	CronSchedule *schedule = parser->schedule;
	bool		star = (*p == '*');

	*bits = 0;
	parser->field_start = p;
	parser->field_end = end;
	switch (field)
	{
		case FIELD_HOUR:
			schedule->hour_star = star;
			break;
		case FIELD_DAY_OF_MONTH:
			schedule->day_of_month_star = star;
			break;
		case FIELD_DAY_OF_WEEK:
			schedule->day_of_week_star = star;
			break;
		default:
			break;
	}

	/* '$' (last day of the month) must be the whole field, as in pg_cron. */
	if (field == FIELD_DAY_OF_MONTH && memchr(p, '$', end - p) != NULL)
	{
		if (end - p == 1)
		{
			schedule->last_day_of_month = true;
			return true;
		}
		parser->detail =
			psprintf("value \"%s\" is not valid for the day-of-month field "
					 "(1-31 or $); \"$\" (the last day of the month) must be "
					 "the whole field", CronQuote(p, (int) (end - p)));
		return false;
	}

	for (;;)
	{
		p = CronParseElement(parser, field, p, end, bits);
		if (p == NULL)
			return false;
		if (p == end)
			return true;
		/* CronParseElement stops only at the end or at a ','. */
		p++;
	}
}

/*
 * CronParseElement
 *	  Compile one list element starting at p: '*', a value or a range,
 *	  each with an optional step.  Returns where it stopped (at end or at
 *	  the ',' that follows), or NULL after setting the detail.
 */
static const char *
CronParseElement(CronParser *parser, CronFieldId field, const char *p,
				 const char *end, uint64 *bits)
{
	const CronFieldSpec *spec = &field_specs[field];
	const char *element = p;
	int			first;
	int			last;
	int			step = 1;
	int			value;

	if (p == end || *p == ',')
	{
		parser->detail = psprintf("a list element is empty in the %s field "
								  "(%s)", spec->name, spec->range_text);
		return NULL;
	}

	if (*p == '*')
	{
		first = spec->low;
		last = spec->high;
		p++;
	}
	else
	{
		p = CronParseValue(parser, field, p, end, &first);
		if (p == NULL)
			return NULL;
		last = first;
		if (p < end && *p == '-')
		{
			const char *second = p + 1;

			p = CronParseValue(parser, field, second, end, &last);
			if (p == NULL)
				return NULL;

			/*
			 * "sun" ending a day-of-week range means 7, so that "sat-sun"
			 * and "fri-sun" say what they mean (pg_cron reads them as 6-0
			 * and 5-0 and silently never fires).  A numeric 0 there is
			 * still a reversed range.
			 */
			if (field == FIELD_DAY_OF_WEEK && last == 0 && first > 0 &&
				CronIsAlpha(*second))
				last = 7;
			if (last < first)
			{
				parser->detail =
					psprintf("range %s is reversed in the %s field (%s); "
							 "write the smaller value first",
							 CronQuote(element, (int) (p - element)),
							 spec->name, spec->range_text);
				return NULL;
			}
		}
		else if (p < end && *p == '/')
		{
			/*
			 * pg_cron refuses a step after a single value ("5/15"), and so
			 * do we: some crons read it as "5-59/15", others as "5", so it
			 * is better spelled out.
			 */
			const char *step_end = p;

			while (step_end < end && *step_end != ',')
				step_end++;
			parser->detail =
				psprintf("step \"%s\" has no range in the %s field (%s); "
						 "write a range such as %d-%d%s",
						 CronQuote(element, (int) (step_end - element)),
						 spec->name, spec->range_text, first, spec->high,
						 CronQuote(p, (int) (step_end - p)));
			return NULL;
		}
	}

	if (p < end && *p == '/')
	{
		p = CronParseStep(parser, field, p + 1, end, &step);
		if (p == NULL)
			return NULL;
	}

	if (p < end && *p != ',')
	{
		CronUnexpected(parser, field, p);
		return NULL;
	}

	for (value = first; value <= last; value += step)
		*bits |= UINT64CONST(1) << value;
	return p;
}

/*
 * CronParseValue
 *	  Read one value (digits, or a three-letter name where the field has
 *	  names) starting at p, check its range, and return where it stopped.
 *
 * As in pg_cron a value is a run of letters and digits; leading zeros are
 * fine, names are matched whole and in any case.
 */
static const char *
CronParseValue(CronParser *parser, CronFieldId field, const char *p,
			   const char *end, int *value)
{
	const CronFieldSpec *spec = &field_specs[field];
	CronToken	token;
	bool		all_digits = true;
	int			number = 0;
	int			i;

	token.start = p;
	while (p < end && (CronIsDigit(*p) || CronIsAlpha(*p)))
	{
		if (!CronIsDigit(*p))
			all_digits = false;
		else if (number < 100000)
			number = number * 10 + (*p - '0');
		p++;
	}
	token.len = (int) (p - token.start);

	if (token.len == 0)
	{
		if (p < end)
			CronUnexpected(parser, field, p);
		else
			parser->detail =
				psprintf("a value is missing at the end of the %s field (%s)",
						 spec->name, spec->range_text);
		return NULL;
	}

	if (all_digits)
	{
		if (number < spec->low || number > spec->high)
		{
			parser->detail =
				psprintf("value %s is out of range for the %s field (%d-%d)",
						 CronQuote(token.start, token.len), spec->name,
						 spec->low, spec->high);
			return NULL;
		}
		*value = number;
		return p;
	}

	for (i = 0; spec->names != NULL && spec->names[i] != NULL; i++)
	{
		if (CronEqualsFolded(token.start, token.len, spec->names[i]))
		{
			*value = spec->low + i;
			return p;
		}
	}

	parser->detail =
		psprintf("value \"%s\" is not valid for the %s field (%s)",
				 CronQuote(token.start, token.len), spec->name,
				 spec->range_text);
	return NULL;
}

/*
 * CronParseStep
 *	  Read the step after a '/', starting at p.
 *
 * Steps are plain numbers from 1 to the field's largest value, as pg_cron
 * allows; a step of 0 (pg_cron loops forever on some versions) and larger
 * steps are refused.
 */
static const char *
CronParseStep(CronParser *parser, CronFieldId field, const char *p,
			  const char *end, int *step)
{
	const CronFieldSpec *spec = &field_specs[field];
	const char *digits = p;
	int			number = 0;

	while (p < end && CronIsDigit(*p))
	{
		if (number < 100000)
			number = number * 10 + (*p - '0');
		p++;
	}
	if (p == digits)
	{
		parser->detail =
			psprintf("a step is missing after \"/\" in the %s field "
					 "(1-%d)", spec->name, spec->high);
		return NULL;
	}
	if (number < 1 || number > spec->high)
	{
		parser->detail =
			psprintf("step %s is out of range for the %s field (1-%d)",
					 CronQuote(digits, (int) (p - digits)), spec->name,
					 spec->high);
		return NULL;
	}
	*step = number;
	return p;
}

/*
 * CronCheckDatesOccur
 *	  Refuse day-of-month and month combinations that never happen.
 *
 * Only matters when the day-of-month field must match, that is when the
 * Vixie rule ANDs the two day fields (either begins with '*'): otherwise
 * the day-of-week field can fire on its own.  Every day that exists in a
 * month falls on every weekday in some year, so a date that exists is
 * enough; February 29 exists.
 */
static bool
CronCheckDatesOccur(CronParser *parser)
{
	CronSchedule *schedule = parser->schedule;
	int			longest = 0;
	int			first_day;
	int			month;
	int			count = 0;
	int			seen = 0;
	StringInfoData months;

	if (!schedule->day_of_month_star && !schedule->day_of_week_star)
		return true;
	if (schedule->last_day_of_month)
		return true;

	for (month = 1; month <= 12; month++)
	{
		if (schedule->months & (1 << month))
		{
			longest = Max(longest, month_max_days[month]);
			count++;
		}
	}
	first_day = pg_rightmost_one_pos32(schedule->days_of_month);
	if (first_day <= longest)
		return true;

	initStringInfo(&months);
	for (month = 1; month <= 12; month++)
	{
		if ((schedule->months & (1 << month)) == 0)
			continue;
		seen++;
		if (seen > 1)
			appendStringInfoString(&months, seen == count ? " or " : ", ");
		appendStringInfoString(&months, month_display[month]);
	}
	parser->detail =
		psprintf("day-of-month value %d never occurs in %s (1-%d)",
				 first_day, months.data, longest);
	return false;
}

/*
 * CronUnexpected
 *	  Set the detail for a character that cannot stand at p, quoting the
 *	  whole field for context.
 */
static void
CronUnexpected(CronParser *parser, CronFieldId field, const char *p)
{
	parser->detail =
		psprintf("unexpected \"%s\" in the %s field \"%s\" (%s)",
				 CronQuote(p, 1), field_specs[field].name,
				 CronQuote(parser->field_start,
						   (int) (parser->field_end - parser->field_start)),
				 field_specs[field].range_text);
}

/*
 * CronQuote
 *	  A palloc'd copy of user text for a detail: control characters shown
 *	  as escapes ("\n", "\x01") so the detail stays on one line, and long
 *	  text cut short with "..." (huge numbers and garbage should not flood
 *	  the message).
 */
static char *
CronQuote(const char *start, int len)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < len && i < CRON_QUOTE_MAX; i++)
	{
		unsigned char c = (unsigned char) start[i];

		if (c == '\n')
			appendStringInfoString(&buf, "\\n");
		else if (c == '\t')
			appendStringInfoString(&buf, "\\t");
		else if (c == '\r')
			appendStringInfoString(&buf, "\\r");
		else if (c < 0x20 || c == 0x7F)
			appendStringInfo(&buf, "\\x%02x", c);
		else
			appendStringInfoChar(&buf, (char) c);
	}
	if (len > CRON_QUOTE_MAX)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/* CronIsBlank: the field separators, space and tab (as in pg_cron). */
static bool
CronIsBlank(char c)
{
	return c == ' ' || c == '\t';
}

/* CronIsSpace: any ASCII white space (locale-independent isspace). */
static bool
CronIsSpace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		c == '\f';
}

/* CronIsDigit: an ASCII digit (locale-independent isdigit). */
static bool
CronIsDigit(char c)
{
	return c >= '0' && c <= '9';
}

/* CronIsAlpha: an ASCII letter (locale-independent isalpha). */
static bool
CronIsAlpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * CronEqualsFolded
 *	  Whether [start, start+len) equals the lower-case ASCII "word",
 *	  ignoring case.
 */
static bool
CronEqualsFolded(const char *start, int len, const char *word)
{
	int			i;

	for (i = 0; i < len; i++)
	{
		char		c = start[i];

		if (word[i] == '\0')
			return false;
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != word[i])
			return false;
	}
	return word[len] == '\0';
}
