#!/usr/bin/env python3
"""A Python CGI script: prints its environment as JSON and parses a form POST."""
import json
import os
import sys
import urllib.parse

body = b""
length = os.environ.get("CONTENT_LENGTH")
if length:
    body = sys.stdin.buffer.read(int(length))
form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
out = {
    "environment": {k: v for k, v in sorted(os.environ.items())},
    "form": form,
    "query": urllib.parse.parse_qs(os.environ.get("QUERY_STRING", "")),
}
sys.stdout.write("Content-Type: application/json\r\n\r\n")
sys.stdout.write(json.dumps(out, indent=2) + "\n")
