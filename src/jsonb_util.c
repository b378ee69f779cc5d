/*-------------------------------------------------------------------------
 *
 * jsonb_util.c
 *	  Small accessors for reading values out of normalised documents.
 *
 * IDENTIFICATION
 *	  src/jsonb_util.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/jsonb.h"

#include "payload.h"

/*
 * JsonbGetPath
 *	  The value at keys[0].keys[1]...keys[depth-1] of an object document,
 *	  or NULL when any step is missing or not an object.
 */
JsonbValue *
JsonbGetPath(Jsonb *document, int depth, const char *const *keys)
{
	JsonbContainer *container = &document->root;
	JsonbValue *value = NULL;
	int			i;

	for (i = 0; i < depth; i++)
	{
		if (!JsonContainerIsObject(container))
			return NULL;
		value = getKeyJsonValueFromContainer(container, keys[i],
											 strlen(keys[i]), NULL);
		if (value == NULL)
			return NULL;
		if (i < depth - 1)
		{
			if (value->type != jbvBinary)
				return NULL;
			container = value->val.binary.data;
		}
	}
	return value;
}

/*
 * JsonbGetPathText
 *	  The string at that path, palloc'd, or NULL when it is absent or not a
 *	  string.
 */
char *
JsonbGetPathText(Jsonb *document, int depth, const char *const *keys)
{
	JsonbValue *value = JsonbGetPath(document, depth, keys);

	if (value == NULL || value->type != jbvString)
		return NULL;
	return pnstrdup(value->val.string.val, value->val.string.len);
}

/*
 * JsonbDocumentAsValue
 *	  A whole document as a JsonbValue: the scalar itself for a scalar
 *	  document, else a binary value pointing into it.  NULL for NULL.
 */
JsonbValue *
JsonbDocumentAsValue(Jsonb *document, JsonbValue *buf)
{
	if (document == NULL)
		return NULL;
	if (JB_ROOT_IS_SCALAR(document))
		JsonbExtractScalar(&document->root, buf);
	else
	{
		buf->type = jbvBinary;
		buf->val.binary.data = &document->root;
		buf->val.binary.len = VARSIZE(document) - VARHDRSZ;
	}
	return buf;
}
