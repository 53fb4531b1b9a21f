#!/usr/bin/env python3
"""API conformance: Schemathesis against Tend's own OpenAPI document, as every role.

Starts `tend serve` on a demo practice in a fresh data directory (on a free port; waits for the
"ready" line, never for a fixed time), signs in through `POST /api/v1/auth/login` as a client,
a therapist, a supervisor and an admin (staff with the demo's current two-step code), and runs
Schemathesis once anonymously and once per role. Every answer must be no 5xx, a documented
status code, the documented content type, and match its documented schema.

Usage: scripts/api_conformance.py TEND_BINARY SCHEMATHESIS_BINARY [max-examples]
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
PASSWORD = "tend-demo-practice"
ROLES = [
    ("client", "amara@tend.example", False),
    ("therapist", "maya@tend.example", True),
    ("supervisor", "helen@tend.example", True),
    ("admin", "admin@tend.example", True),
]


def login(base, tend, env, email, staff):
    """A bearer token for `email`, through the real login endpoint."""
    body = {"email": email, "password": PASSWORD}
    if staff:
        code = subprocess.run([tend, "demo", "--code"], env=env, check=True,
                              capture_output=True, text=True).stdout.strip()
        body["totp"] = code
    req = urllib.request.Request(f"{base}/api/v1/auth/login", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req) as resp:
        return json.load(resp)["token"]


def main():
    # Absolute: Schemathesis runs from the scratch directory.
    tend, schemathesis = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    examples = sys.argv[3] if len(sys.argv) > 3 else "10"
    data = tempfile.mkdtemp(prefix="tend-api-")
    env = {**os.environ, "TEND_DATA_DIR": data, "TEND_LOG_FORMAT": "json"}
    env.pop("DATABASE_URL", None)
    subprocess.run([tend, "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen([tend, "serve", "--listen", "127.0.0.1:0"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    failed = []
    try:
        base = None
        for line in server.stdout:
            m = re.search(r"Tend is ready at (http://\S+)", line)
            if m:
                base = m.group(1)
                break
        if base is None:
            sys.exit("tend serve exited before it was ready")
        runs = [("anonymous", None)]
        for role, email, staff in ROLES:
            runs.append((role, login(base, tend, env, email, staff)))
        for role, token in runs:
            cmd = [schemathesis, "run", f"{base}/api/v1/openapi.json", "--checks", CHECKS,
                   "--max-examples", examples, "--seed", "20261127",
                   # Signing out would end the token the rest of the run uses.
                   "--exclude-path", "/api/v1/auth/logout"]
            if token:
                cmd += ["-H", f"Authorization: Bearer {token}"]
            print(f"\n--- Schemathesis as {role}", flush=True)
            # Run from the scratch directory: Schemathesis keeps a cache where it runs.
            if subprocess.run(cmd, cwd=data).returncode != 0:
                failed.append(role)
    finally:
        server.terminate()
        server.wait()
    if failed:
        sys.exit(f"API conformance failed as: {', '.join(failed)}")
    print("\nAPI conformance: no 5xx, and every answer as documented, for every role.")


if __name__ == "__main__":
    main()
