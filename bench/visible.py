#!/usr/bin/env python3
"""visible — how long a change made with the CLI takes to reach a running server.

Locks the API user of a service with `latchkey user lock`, then asks the server with
that service's token every 5 ms until it answers 601; prints the milliseconds from
the CLI's return to the first 601 (the server's poll of the change feed). Bounded: it
gives up after 10 s and prints -1.

usage: visible.py LATCHKEY DB URL CLIENT_ID SECRET EMAIL
"""
import json
import subprocess
import sys
import time
import urllib.request


def main() -> int:
    if len(sys.argv) != 7:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    binary, db, url, client_id, secret, email = sys.argv[1:]
    token_url = (f"{url}/identity/oauth/token?grant_type=client_credentials"
                 f"&client_id={client_id}&client_secret={secret}")
    token = json.load(urllib.request.urlopen(token_url, timeout=10))["access_token"]
    usage = urllib.request.Request(f"{url}/rest/v1/stats/usage.json", headers={"Authorization": f"Bearer {token}"})
    if b'"601"' in urllib.request.urlopen(usage, timeout=10).read():
        print("visible: the token is refused before the change", file=sys.stderr)
        return 1
    subprocess.run([binary, "--db", db, "user", "lock", email], check=True, capture_output=True)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10:
        if b'"601"' in urllib.request.urlopen(usage, timeout=10).read():
            print(f"{1000 * (time.monotonic() - t0):.0f}")
            return 0
        time.sleep(0.005)
    print("-1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
