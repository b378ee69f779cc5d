#!/usr/bin/python3
"""schema_check.py: validate documents against jobconfig's payload schema.

Reads {"schema": ..., "documents": [...]} on stdin; prints one line per
document, "valid" or "invalid: <first error>".  Used by
t/001_payload_schema.pl with Debian's python3-jsonschema (draft 2020-12).
"""
import json
import sys

from jsonschema import Draft202012Validator

request = json.load(sys.stdin)
Draft202012Validator.check_schema(request["schema"])
validator = Draft202012Validator(request["schema"])
for document in request["documents"]:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path)
        print(f"invalid: {where}: {errors[0].message[:200]}".replace("\n", " "))
    else:
        print("valid")
