#!/usr/bin/env python3
"""Validates JSON payload files against a JSON Schema (or the request body of an OpenAPI operation).

Used by the provider tests: Herald renders its payloads into a directory and this script checks every file
with the `jsonschema` package (pinned in scripts/requirements-test.txt). Prints one line per invalid payload
and exits 1 if any is invalid, 0 otherwise.

    validate-json-schema.py --schema FILE [--openapi-operation PATH:METHOD] PAYLOAD.json...
"""
import argparse
import json
import sys

import jsonschema


def load_schema(path, operation):
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    if not operation:
        return document
    route, method = operation.rsplit(":", 1)
    body = document["paths"][route][method]["requestBody"]["content"]["application/json"]["schema"]
    # The operation's references point into the OpenAPI document's components.
    return dict(body, components=document.get("components", {}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--schema", required=True)
    parser.add_argument("--openapi-operation")
    parser.add_argument("payloads", nargs="+")
    arguments = parser.parse_args()
    schema = load_schema(arguments.schema, arguments.openapi_operation)
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    invalid = 0
    for path in arguments.payloads:
        with open(path, encoding="utf-8") as handle:
            payload = json.load(handle)
        errors = sorted(validator.iter_errors(payload), key=lambda error: list(error.absolute_path))
        if errors:
            invalid += 1
            first = errors[0]
            where = "/".join(str(part) for part in first.absolute_path) or "(root)"
            print(f"{path}: {where}: {first.message[:300]} ({len(errors)} errors)")
    print(f"{len(arguments.payloads) - invalid} of {len(arguments.payloads)} payloads valid against {arguments.schema}")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
