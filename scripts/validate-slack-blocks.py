#!/usr/bin/env python3
"""Validates rendered Slack message bodies with Slack's own Python SDK.

Used by the provider tests: Herald renders its chat.postMessage and incoming-webhook bodies into files and this
script reads every block with `slack_sdk.models.blocks.Block.parse` (slack_sdk pinned in
scripts/requirements-test.txt), runs the SDK's validators on it (`validate_json`: text lengths, element counts,
required fields) and checks that the SDK's own `to_dict()` gives the block back unchanged, so a field the SDK
does not know (or reads differently) is reported too. Prints one line per invalid payload and exits 1 if any
is invalid, 0 otherwise.

    validate-slack-blocks.py PAYLOAD.json...
"""
import json
import logging
import sys

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

# chat.postMessage: at most 50 blocks; `text` is truncated by Slack past 40,000 characters.
MAX_BLOCKS = 50
MAX_TEXT = 40000


class Warnings(logging.Handler):
    """Collects the SDK's warnings (unknown blocks, unknown fields)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def problems(payload, warnings):
    found = []
    blocks = payload.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return ["has no blocks"]
    if len(blocks) > MAX_BLOCKS:
        found.append(f"has {len(blocks)} blocks, more than {MAX_BLOCKS}")
    text = payload.get("text")
    if not isinstance(text, str) or not text:
        found.append("has no fallback text")
    elif len(text) > MAX_TEXT:
        found.append(f"text has {len(text)} characters, more than {MAX_TEXT}")
    for index, raw in enumerate(blocks):
        warnings.messages.clear()
        try:
            block = Block.parse(raw)
            if block is None:
                found.append(f"blocks[{index}]: the SDK does not know the block {json.dumps(raw)[:200]}")
                continue
            block.validate_json()
            again = block.to_dict()
        except (SlackObjectFormationError, TypeError, ValueError) as error:
            found.append(f"blocks[{index}]: {str(error)[:300]}")
            continue
        if again != raw:
            found.append(f"blocks[{index}]: the SDK reads it as {json.dumps(again)[:300]}")
        for message in warnings.messages:
            found.append(f"blocks[{index}]: {message[:300]}")
    return found


def main():
    warnings = Warnings()
    logging.getLogger("slack_sdk").addHandler(warnings)
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
    logging.getLogger("slack_sdk").propagate = False
    paths = sys.argv[1:]
    invalid = 0
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            payload = json.load(handle)
        found = problems(payload, warnings)
        if found:
            invalid += 1
            print(f"{path}: {found[0]} ({len(found)} problems)")
    print(f"{len(paths) - invalid} of {len(paths)} payloads valid for slack_sdk")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
