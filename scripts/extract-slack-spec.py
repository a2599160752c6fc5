#!/usr/bin/env python3
"""Extracts from Slack's OpenAPI spec what the simulator's contract check needs, for the Web API
methods Loopbot calls and the simulator serves: each method's accepted content types
(`consumes`), and its arguments with their spec types and required flags.

    scripts/extract-slack-spec.py [SPEC] [OUT]

SPEC defaults to ../shared/slack-reference/openapi/slack_web_openapi_v2.json (Slack's
slackapi/slack-api-specs, web-api/slack_web_openapi_v2.json, MIT, license beside OUT);
OUT defaults to crates/slack-sim/src/spec/slack_web_methods.json. The output is sorted and stable, so a
re-run that changes nothing leaves the file as it is. Methods or arguments newer than the
spec are not added here: they are listed, with their documentation, in
crates/slack-sim/src/contract/additions.rs.
"""

import json
import os
import sys

# Every method Loopbot's client calls (crates/loopbot/src/slack/wire.rs) and the simulator serves
# (crates/slack-sim/src/rules.rs). apps.connections.open is newer than the spec: see additions.rs.
METHODS = [
    "auth.test",
    "chat.delete",
    "chat.postEphemeral",
    "chat.postMessage",
    "chat.update",
    "conversations.archive",
    "conversations.create",
    "conversations.history",
    "conversations.info",
    "conversations.invite",
    "conversations.list",
    "conversations.members",
    "conversations.open",
    "conversations.rename",
    "conversations.replies",
    "conversations.setTopic",
    "pins.add",
    "users.info",
    "users.lookupByEmail",
    "views.open",
    "views.publish",
    "views.update",
]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SPEC = os.path.join(
    ROOT, "..", "shared", "slack-reference", "openapi", "slack_web_openapi_v2.json"
)
DEFAULT_OUT = os.path.join(ROOT, "crates", "slack-sim", "src", "spec", "slack_web_methods.json")


def argument(param):
    """One argument: its spec type, whether it is required, and whether the spec says its
    value is JSON text (blocks, attachments, a view), which a JSON body may send as JSON."""
    description = param.get("description", "")
    return {
        "type": param.get("type", "string"),
        "required": bool(param.get("required", False)),
        "json": "JSON" in description,
    }


def extract(spec):
    methods = {}
    for name in METHODS:
        path = spec["paths"].get("/" + name)
        if path is None:
            sys.exit(f"{name} is not in the spec")
        (verb, operation), = path.items()
        methods[name] = {
            "http_method": verb.upper(),
            "consumes": sorted(operation.get("consumes", [])),
            "args": {p["name"]: argument(p) for p in operation.get("parameters", [])},
            "docs": operation.get("externalDocs", {}).get("url", ""),
        }
    return {
        "source": "slackapi/slack-api-specs web-api/slack_web_openapi_v2.json "
        + "(MIT, see LICENSE-slack-api-specs beside this file), as copied to "
        + "../shared/slack-reference/openapi from the snapshot @ "
        + "bc08db49625630e3585bf2f1322128ea04f2a7f3 (2021-09-03); "
        + "extracted by scripts/extract-slack-spec.py",
        "spec_version": spec.get("info", {}).get("version", ""),
        "methods": methods,
    }


def main():
    spec_path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SPEC
    out_path = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_OUT
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(extract(spec), f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
