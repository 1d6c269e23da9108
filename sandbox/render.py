#!/usr/bin/env python3
"""Fills a sandbox fixture template: every @NAME@ becomes the value of the environment
variable SANDBOX_NAME (an unknown name is an error). Values go in verbatim, byte for
byte, and are never evaluated: the MySQL password may hold quotes, $ and backslashes.

Usage: render.py TEMPLATE > OUTPUT
"""
import os
import re
import sys


def value(match: re.Match) -> str:
    key = "SANDBOX_" + match.group(1)
    if key not in os.environ:
        sys.exit(f"render.py: {key} is not set (needed by {sys.argv[1]})")
    return os.environ[key]


with open(sys.argv[1], encoding="utf-8") as template:
    sys.stdout.write(re.sub(r"@([A-Z][A-Z0-9_]*)@", value, template.read()))
