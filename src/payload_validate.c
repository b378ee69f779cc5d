/*-------------------------------------------------------------------------
 *
 * payload_validate.c
 *	  Validate a job document against its field table, fill in defaults,
 *	  and keep secrets out of what is stored.
 *
 * The walk never stops at the first problem: every key is checked and
 * every problem recorded with its JSON path, so the caller can refuse the
 * document once with the whole list.  What comes back is the normalised
 * document: unknown keys are errors, absent keys get their defaults, and
 * values are stored in canonical form (integers as integers, time zones in
 * their canonical spelling).  So what a reader sees is exactly what runs.
 *
 * Secrets (the webhook secret, the Slack URL) are handed back to the caller
 * in a PayloadResult and replaced in the document by a redacted
 * placeholder.  A document that carries the placeholder means "keep the
 * stored secret", so a UI can write back what it read.
 *
 * IDENTIFICATION
 *	  src/payload_validate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "mb/pg_wchar.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/numeric.h"
#include "utils/varlena.h"

#include "payload.h"

typedef struct Walk
{
	ProblemList *problems;
	PayloadResult *result;
} Walk;

static void ValidateValue(Walk *walk, const FieldSpec *spec, JsonbValue *value,
						  const char *path, JsonbParseState **state);

/*
 * QuoteValue
 *	  A user's value as it appears in a message: JSON-quoted, so control
 *	  characters cannot break the one-problem-per-line layout, and cut at
 *	  64 bytes.
 */
static char *
QuoteValue(const char *value, int len)
{
	StringInfoData buf;
	int			shown = Min(len, 64);

	/* Do not cut a multibyte character in two. */
	shown = pg_mbcliplen(value, len, shown);
	initStringInfo(&buf);
	escape_json(&buf, pnstrdup(value, shown));
	if (shown < len)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * ChildPath
 *	  "path.key", or path["key"] for a key that is not a plain identifier
 *	  (keys written by users may hold anything, even newlines).
 */
static char *
ChildPath(const char *path, const char *key, int keylen)
{
	bool		plain = keylen > 0 && keylen <= 64;
	int			i;

	for (i = 0; plain && i < keylen; i++)
		plain = isalnum((unsigned char) key[i]) || key[i] == '_';
	if (plain)
		return psprintf("%s.%.*s", path, keylen, key);

	return psprintf("%s[%s]", path, QuoteValue(key, keylen));
}

/*
 * DescribeType
 *	  "a string", "an array"... for messages about wrong types.
 */
static const char *
DescribeType(const JsonbValue *value)
{
	switch (value->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvBinary:
			return JsonContainerIsArray(value->val.binary.data) ?
				"an array" : "an object";
		case jbvArray:
			return "an array";
		case jbvObject:
			return "an object";
		default:
			return "a value";
	}
}

/*
 * ExpectedType
 *	  The name of the JSON type a field kind wants.
 */
static const char *
ExpectedType(FieldKind kind)
{
	switch (kind)
	{
		case FIELD_OBJECT:
			return "an object";
		case FIELD_STRING:
			return "a string";
		case FIELD_INTEGER:
			return "an integer";
		case FIELD_NUMBER:
			return "a number";
		case FIELD_BOOLEAN:
			return "a boolean";
		case FIELD_STRING_ARRAY:
			return "an array of strings";
	}
	return "a value";
}

/*
 * FindField
 *	  The child of an object spec with that key, or NULL.
 */
static const FieldSpec *
FindField(const FieldSpec *spec, const char *key, int keylen)
{
	const FieldSpec *child;

	for (child = spec->fields; child->name != NULL; child++)
		if ((int) strlen(child->name) == keylen &&
			strncmp(child->name, key, keylen) == 0)
			return child;
	return NULL;
}

/*
 * ReportUnknownKey
 *	  An unknown key is refused, with the closest known key suggested (a
 *	  typo such as "timeout" for "timeoutSeconds" is the common case).
 */
static void
ReportUnknownKey(Walk *walk, const FieldSpec *spec, const char *path,
				 const char *key, int keylen)
{
	const FieldSpec *child;
	const char *best = NULL;
	int			best_distance = 4;
	StringInfoData known;

	initStringInfo(&known);
	for (child = spec->fields; child->name != NULL; child++)
	{
		int			distance;
		int			len = strlen(child->name);

		if (child->system_maintained)
			continue;
		if (known.len > 0)
			appendStringInfoString(&known, ", ");
		appendStringInfoString(&known, child->name);

		if (len == keylen && pg_strncasecmp(child->name, key, len) == 0)
			distance = 0;
		else if (len >= 3 && keylen >= 3 &&
				 (strncmp(child->name, key, Min(len, keylen)) == 0))
			distance = 1;	/* a prefix: "timeout" for "timeoutSeconds" */
		else
			distance = varstr_levenshtein_less_equal(key, keylen,
													 child->name, len,
													 1, 1, 1, 4, true);
		if (distance < best_distance)
		{
			best_distance = distance;
			best = child->name;
		}
	}

	if (best != NULL)
		ProblemAdd(walk->problems, ChildPath(path, key, keylen),
				   "unknown key (did you mean \"%s\"?)", best);
	else
		ProblemAdd(walk->problems, ChildPath(path, key, keylen),
				   "unknown key; allowed keys are %s", known.data);
}

/*
 * ReportUnknownKeys
 *	  Every key of the object that the spec does not list.
 */
static void
ReportUnknownKeys(Walk *walk, const FieldSpec *spec, JsonbContainer *object,
				  const char *path)
{
	JsonbIterator *it = JsonbIteratorInit(object);
	JsonbValue	v;
	JsonbIteratorToken token;

	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (token != WJB_KEY)
			continue;
		if (FindField(spec, v.val.string.val, v.val.string.len) == NULL)
			ReportUnknownKey(walk, spec, path, v.val.string.val,
							 v.val.string.len);
	}
}

/*
 * HasDefault
 *	  Does an absent field get a value of its own?
 */
static bool
HasDefault(const FieldSpec *spec)
{
	return spec->default_json != NULL || spec->default_fn != NULL;
}

/*
 * DefaultValue
 *	  The default of an absent field as a JsonbValue, or NULL when it has
 *	  none (an optional section that stays absent).
 */
static JsonbValue *
DefaultValue(const FieldSpec *spec)
{
	JsonbValue *value = palloc(sizeof(JsonbValue));
	Jsonb	   *parsed;

	if (spec->default_fn != NULL)
	{
		char	   *text = spec->default_fn();

		value->type = jbvString;
		value->val.string.val = text;
		value->val.string.len = strlen(text);
		return value;
	}
	if (spec->default_json == NULL)
		return NULL;

	parsed = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
												CStringGetDatum(spec->default_json)));
	return JsonbDocumentAsValue(parsed, value);
}

/*
 * DiscriminatorValue
 *	  Which sections an object with a discriminator must have: the value of
 *	  the discriminator key when it is one of the allowed ones, else its
 *	  default.  (A bad value is reported where the key itself is checked.)
 */
static const char *
DiscriminatorValue(const FieldSpec *spec, JsonbContainer *object)
{
	const FieldSpec *key = FindField(spec, spec->discriminator,
									 strlen(spec->discriminator));
	JsonbValue	buf;
	JsonbValue *v = NULL;
	const char *const *allowed;

	if (object != NULL)
		v = getKeyJsonValueFromContainer(object, key->name,
										 strlen(key->name), &buf);
	if (v == NULL)
		v = DefaultValue(key);
	if (v == NULL || v->type != jbvString)
		return NULL;
	for (allowed = key->allowed; *allowed; allowed++)
		if ((int) strlen(*allowed) == v->val.string.len &&
			strncmp(*allowed, v->val.string.val, v->val.string.len) == 0)
			return *allowed;
	return NULL;
}

/*
 * ValidateObjectFields
 *	  Check every key of an object against its spec and push the
 *	  normalised object, returning what the push of its end gives (the whole
 *	  document, at the root).  "object" is NULL when a section is filled in
 *	  from nothing.
 */
static JsonbValue *
ValidateObjectFields(Walk *walk, const FieldSpec *spec, JsonbContainer *object,
					 const char *path, JsonbParseState **state)
{
	const FieldSpec *child;
	const char *chosen = NULL;

	if (object != NULL)
		ReportUnknownKeys(walk, spec, object, path);
	if (spec->discriminator != NULL)
		chosen = DiscriminatorValue(spec, object);

	pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
	for (child = spec->fields; child->name != NULL; child++)
	{
		JsonbValue	buf;
		JsonbValue *value = NULL;
		JsonbValue	key;
		char	   *child_path = ChildPath(path, child->name,
										   strlen(child->name));

		if (object != NULL)
			value = getKeyJsonValueFromContainer(object, child->name,
												 strlen(child->name), &buf);

		/* System-maintained keys are dropped; the caller sets them. */
		if (child->system_maintained)
			continue;

		if (child->when != NULL)
		{
			bool		active = chosen != NULL && strcmp(chosen, child->when) == 0;

			if (!active)
			{
				if (value != NULL && chosen != NULL)
					ProblemAdd(walk->problems, child_path,
							   "not allowed when %s.%s is \"%s\"",
							   path, spec->discriminator, chosen);
				continue;
			}
			if (value == NULL && !HasDefault(child))
			{
				ProblemAdd(walk->problems, child_path,
						   "is required when %s.%s is \"%s\"",
						   path, spec->discriminator, chosen);
				continue;
			}
		}

		if (value == NULL)
		{
			if (child->required)
			{
				ProblemAdd(walk->problems, child_path, "is required");
				continue;
			}
			value = DefaultValue(child);
			if (value == NULL)
				continue;
		}

		key.type = jbvString;
		key.val.string.val = (char *) child->name;
		key.val.string.len = strlen(child->name);
		pushJsonbValue(state, WJB_KEY, &key);
		ValidateValue(walk, child, value, child_path, state);
	}
	return pushJsonbValue(state, WJB_END_OBJECT, NULL);
}

/*
 * PayloadMatchesPattern
 *	  Does the value match the spec's regular expression?  PostgreSQL's
 *	  regex engine caches compiled patterns, so this is cheap after the
 *	  first call.
 */
bool
PayloadMatchesPattern(const char *pattern, const char *value)
{
	return RE_compile_and_execute(cstring_to_text(pattern), (char *) value,
								  strlen(value), REG_ADVANCED,
								  C_COLLATION_OID, 0, NULL);
}

/*
 * CheckString
 *	  The rules every string (or string array item) obeys: length in
 *	  characters, allowed values, pattern, then the spec's own check.
 *	  Returns false, having recorded the problem, when one is broken.
 */
static bool
CheckString(Walk *walk, const FieldSpec *spec, char **value, const char *path)
{
	int			chars = pg_mbstrlen_with_len(*value, strlen(*value));
	char	   *rule;

	if (chars < spec->min_length)
	{
		if (spec->min_length == 1)
			ProblemAdd(walk->problems, path, "must not be empty");
		else
			ProblemAdd(walk->problems, path,
					   "must be at least %d characters long", spec->min_length);
		return false;
	}
	if (spec->max_length > 0 && chars > spec->max_length)
	{
		ProblemAdd(walk->problems, path,
				   "must be at most %d characters long (it has %d)",
				   spec->max_length, chars);
		return false;
	}
	if (spec->allowed != NULL)
	{
		const char *const *allowed;
		StringInfoData list;

		initStringInfo(&list);
		for (allowed = spec->allowed; *allowed; allowed++)
		{
			if (strcmp(*allowed, *value) == 0)
				break;
			appendStringInfo(&list, "%s%s", list.len ? ", " : "", *allowed);
		}
		if (*allowed == NULL)
		{
			ProblemAdd(walk->problems, path, "%s is not one of %s",
					   QuoteValue(*value, strlen(*value)), list.data);
			return false;
		}
	}
	if (spec->pattern != NULL && !PayloadMatchesPattern(spec->pattern, *value))
	{
		/* A secret is never echoed back, not even to its writer. */
		if (spec->secret != SECRET_NONE)
			ProblemAdd(walk->problems, path, "%s", spec->pattern_rule);
		else
			ProblemAdd(walk->problems, path, "%s %s",
					   QuoteValue(*value, strlen(*value)), spec->pattern_rule);
		return false;
	}
	if (spec->check != NULL &&
		(rule = spec->check(spec, value, walk->result)) != NULL)
	{
		ProblemAdd(walk->problems, path, "%s", rule);
		return false;
	}
	return true;
}

/*
 * PushString
 *	  Push a string scalar (a key's value or an array element).
 */
static void
PushString(JsonbParseState **state, JsonbIteratorToken token, const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	pushJsonbValue(state, token, &v);
}

/*
 * ValidateStringField
 *	  A string value, with secrets split off: a placeholder keeps the stored
 *	  secret, a real value is checked, handed to the caller and replaced by
 *	  its redaction.
 */
static void
ValidateStringField(Walk *walk, const FieldSpec *spec, JsonbValue *value,
					const char *path, JsonbParseState **state)
{
	char	   *text = pnstrdup(value->val.string.val, value->val.string.len);

	if (spec->secret != SECRET_NONE && PayloadIsRedacted(spec->secret, text))
		walk->result->secret_kept[spec->secret] = true;
	else if (CheckString(walk, spec, &text, path) &&
			 spec->secret != SECRET_NONE)
	{
		walk->result->secrets[spec->secret] = text;
		text = PayloadRedactSecret(spec->secret, text);
	}
	PushString(state, WJB_VALUE, text);
}

/*
 * ValidateStringArray
 *	  An array of strings: item count, each item's rules, no duplicates.
 */
static void
ValidateStringArray(Walk *walk, const FieldSpec *spec, JsonbContainer *array,
					const char *path, JsonbParseState **state)
{
	int			count = JsonContainerSize(array);
	char	  **items = palloc0(sizeof(char *) * (count + 1));
	int			i;

	if (count < spec->min_items)
		ProblemAdd(walk->problems, path, "must have at least %d item%s",
				   spec->min_items, spec->min_items == 1 ? "" : "s");
	if (spec->max_items > 0 && count > spec->max_items)
		ProblemAdd(walk->problems, path, "must have at most %d items (it has %d)",
				   spec->max_items, count);

	pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
	for (i = 0; i < count; i++)
	{
		JsonbValue *item = getIthJsonbValueFromContainer(array, i);
		char	   *item_path = psprintf("%s[%d]", path, i);
		int			j;

		if (item->type != jbvString)
		{
			ProblemAdd(walk->problems, item_path, "must be a string, not %s",
					   DescribeType(item));
			continue;
		}
		items[i] = pnstrdup(item->val.string.val, item->val.string.len);
		if (!CheckString(walk, spec, &items[i], item_path))
			continue;
		for (j = 0; j < i; j++)
			if (items[j] != NULL && strcmp(items[j], items[i]) == 0)
			{
				ProblemAdd(walk->problems, item_path, "%s is listed twice",
						   QuoteValue(items[i], strlen(items[i])));
				break;
			}
		PushString(state, WJB_ELEM, items[i]);
	}
	pushJsonbValue(state, WJB_END_ARRAY, NULL);
}

/* Longest number a message shows as written; see NumberForMessage. */
#define MESSAGE_NUMBER_CHARS 40

/*
 * NumberForMessage
 *	  A number as a message shows it: as written (numeric_out) when that is
 *	  short; else in exact scientific notation, so that 1e400 reads
 *	  "1e+400" rather than 401 digits; else, when that is long too, its
 *	  first digits and "...".  Never rounded: a message about
 *	  10.0000000000000000000000000001 must not say "10".
 */
static char *
NumberForMessage(Numeric value)
{
	char	   *plain = DatumGetCString(DirectFunctionCall1(numeric_out,
															NumericGetDatum(value)));
	const char *p = plain;
	StringInfoData sci;
	char	   *digits;
	int			point;
	int			first;
	int			last;
	int			n = 0;

	if (strlen(plain) <= MESSAGE_NUMBER_CHARS)
		return plain;

	/* numeric_out writes [-]digits[.digits]: no exponent, no NaN here. */
	initStringInfo(&sci);
	if (*p == '-')
		appendStringInfoChar(&sci, *p++);
	point = strcspn(p, ".");
	digits = palloc(strlen(p) + 1);
	for (; *p; p++)
		if (isdigit((unsigned char) *p))
			digits[n++] = *p;
	for (first = 0; first < n && digits[first] == '0'; first++)
		;
	for (last = n - 1; last > first && digits[last] == '0'; last--)
		;
	if (first == n)
		return pstrdup("0");
	appendStringInfoChar(&sci, digits[first]);
	if (last > first)
		appendStringInfo(&sci, ".%.*s", last - first, digits + first + 1);
	appendStringInfo(&sci, "e%+03d", point - 1 - first);
	if (sci.len <= MESSAGE_NUMBER_CHARS)
		return sci.data;
	return psprintf("%.*s...", MESSAGE_NUMBER_CHARS, plain);
}

/*
 * NumericFromLiteral
 *	  A bound of the field table as numeric.
 */
static Datum
NumericFromLiteral(const char *literal)
{
	return DirectFunctionCall3(numeric_in, CStringGetDatum(literal),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/*
 * RangeForMessage
 *	  The bounds of a number field: "1-10", "at least 1", "at most 10".
 */
static char *
RangeForMessage(const FieldSpec *spec)
{
	if (spec->minimum != NULL && spec->maximum != NULL)
		return psprintf("%s-%s", spec->minimum, spec->maximum);
	if (spec->minimum != NULL)
		return psprintf("at least %s", spec->minimum);
	return psprintf("at most %s", spec->maximum);
}

/*
 * ValidateNumber
 *	  Integers and numbers: integrality for integers, then range, both
 *	  decided on the numeric value itself, never on a double, so that
 *	  5.0000000000000000001 is not an integer and
 *	  10.0000000000000000000000000001 is above 10.  An integer is stored in
 *	  its plain form (50.0 and 5e1 as 50, -0 as 0); a number as written.
 */
static void
ValidateNumber(Walk *walk, const FieldSpec *spec, JsonbValue *value,
			   const char *path, JsonbParseState **state)
{
	Datum		number = NumericGetDatum(value->val.numeric);

	if (spec->kind == FIELD_INTEGER &&
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, number,
										  DirectFunctionCall2(numeric_trunc, number,
															  Int32GetDatum(0)))) != 0)
	{
		ProblemAdd(walk->problems, path, "value %s is not an integer",
				   NumberForMessage(value->val.numeric));
		pushJsonbValue(state, WJB_VALUE, value);
		return;
	}
	if ((spec->minimum != NULL &&
		 DatumGetInt32(DirectFunctionCall2(numeric_cmp, number,
										   NumericFromLiteral(spec->minimum))) < 0) ||
		(spec->maximum != NULL &&
		 DatumGetInt32(DirectFunctionCall2(numeric_cmp, number,
										   NumericFromLiteral(spec->maximum))) > 0))
	{
		ProblemAdd(walk->problems, path, "value %s is out of range (%s)",
				   NumberForMessage(value->val.numeric), RangeForMessage(spec));
		pushJsonbValue(state, WJB_VALUE, value);
		return;
	}
	if (spec->kind == FIELD_INTEGER)
	{
		JsonbValue	normalised;

		/* Within the table's bounds, so within int64. */
		normalised.type = jbvNumeric;
		normalised.val.numeric =
			int64_to_numeric(DatumGetInt64(DirectFunctionCall1(numeric_int8, number)));
		pushJsonbValue(state, WJB_VALUE, &normalised);
		return;
	}
	pushJsonbValue(state, WJB_VALUE, value);
}

/*
 * ValidateValue
 *	  Check one value against its spec and push its normalised form.  On a
 *	  wrong type, a null is pushed in its place: the document will be
 *	  refused anyway, and the walk goes on to find the other problems.
 */
static void
ValidateValue(Walk *walk, const FieldSpec *spec, JsonbValue *value,
			  const char *path, JsonbParseState **state)
{
	JsonbValue	null_value = {.type = jbvNull};
	bool		is_object = value->type == jbvBinary &&
		JsonContainerIsObject(value->val.binary.data);
	bool		is_array = value->type == jbvBinary &&
		JsonContainerIsArray(value->val.binary.data);
	bool		type_ok;

	switch (spec->kind)
	{
		case FIELD_OBJECT:
			type_ok = is_object;
			break;
		case FIELD_STRING:
			type_ok = value->type == jbvString;
			break;
		case FIELD_INTEGER:
		case FIELD_NUMBER:
			type_ok = value->type == jbvNumeric;
			break;
		case FIELD_BOOLEAN:
			type_ok = value->type == jbvBool;
			break;
		case FIELD_STRING_ARRAY:
			type_ok = is_array;
			break;
		default:
			elog(ERROR, "unknown field kind %d", (int) spec->kind);
	}

	if (!type_ok)
	{
		if (value->type == jbvString && spec->secret == SECRET_NONE)
			ProblemAdd(walk->problems, path, "must be %s, not a string (%s)",
					   ExpectedType(spec->kind),
					   QuoteValue(value->val.string.val, value->val.string.len));
		else
			ProblemAdd(walk->problems, path, "must be %s, not %s",
					   ExpectedType(spec->kind), DescribeType(value));
		pushJsonbValue(state, WJB_VALUE, &null_value);
		return;
	}

	switch (spec->kind)
	{
		case FIELD_OBJECT:
			ValidateObjectFields(walk, spec, value->val.binary.data, path, state);
			break;
		case FIELD_STRING:
			ValidateStringField(walk, spec, value, path, state);
			break;
		case FIELD_INTEGER:
		case FIELD_NUMBER:
			ValidateNumber(walk, spec, value, path, state);
			break;
		case FIELD_BOOLEAN:
			pushJsonbValue(state, WJB_VALUE, value);
			break;
		case FIELD_STRING_ARRAY:
			ValidateStringArray(walk, spec, value->val.binary.data, path, state);
			break;
	}
}

/*
 * PayloadValidate
 *	  Validate "document" against the object spec, recording problems under
 *	  "path".  Returns the normalised document; it is meaningful only when
 *	  no problem was recorded.
 */
Jsonb *
PayloadValidate(const FieldSpec *spec, Jsonb *document, const char *path,
				ProblemList *problems, PayloadResult *result)
{
	Walk		walk = {.problems = problems, .result = result};
	JsonbParseState *state = NULL;
	JsonbValue *normalised;

	Assert(spec->kind == FIELD_OBJECT);

	if (JB_ROOT_IS_SCALAR(document) || JB_ROOT_IS_ARRAY(document))
	{
		JsonbValue	buf;

		ProblemAdd(problems, path, "must be a JSON object, not %s",
				   DescribeType(JsonbDocumentAsValue(document, &buf)));
		return document;
	}

	normalised = ValidateObjectFields(&walk, spec, &document->root, path,
									  &state);
	return JsonbValueToJsonb(normalised);
}
