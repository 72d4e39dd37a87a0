#!/usr/bin/env python3
"""The console's API description (node/web/static/openapi.json) and its routes
(node/web/routes.c) list the same calls: every API route is described, with its method, and
every described call is routed. Also: the file is what the server serves at
/api/openapi.json is checked by the browser tests; here the two sources are compared.

Run as: python3 tests/web/openapi_test.py /path/to/truyvet (the binary is not needed)."""
import json
import os
import re
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
routes_c = open(os.path.join(root, "node/web/routes.c"), encoding="utf-8").read()
doc = json.load(open(os.path.join(root, "node/web/static/openapi.json"), encoding="utf-8"))

# the route table is data: {"METHOD", "/api/...", roles, flags, handler}
routed = set()
for m in re.finditer(r'\{"(GET|POST|PUT|PATCH|DELETE)",\s*"(/api/[^"]*)"', routes_c):
    routed.add((m.group(1).lower(), m.group(2)))
if len(routed) < 10:
    print("FAIL: found only %d API routes in routes.c: has its form changed?" % len(routed))
    sys.exit(1)

described = set()
for path, ops in doc["paths"].items():
    pattern = re.sub(r"\{[^}]+\}", "{}", path)
    for method, o in ops.items():
        described.add((method, pattern))
        for key in ("summary", "x-roles", "responses"):
            if key not in o:
                print("FAIL: %s %s has no %s" % (method.upper(), path, key))
                sys.exit(1)

bad = 0
for method, path in sorted(routed - described):
    print("FAIL: %s %s is routed (node/web/routes.c) but not described in openapi.json" % (method.upper(), path))
    bad += 1
for method, path in sorted(described - routed):
    print("FAIL: %s %s is described in openapi.json but not routed" % (method.upper(), path))
    bad += 1
if bad:
    sys.exit(1)
print("ok: %d API calls, routed and described alike" % len(routed))
