#!/usr/bin/env python3
"""Signs workers in for a scenario of the load benchmark and writes what the
wrk scripts need as a Lua table (read by common.lua's load_data()).

  signin.py BASE_URL OUT.lua --workers N [--applications] [--refresh M]
            [--counties C1,C2,…] [--owed-from D --owed-to D]

Workers bench-0 … bench-(N-1) sign in through the real login route (live
mode, against the fake WeChat), so they are the seeded workers with openid
wx-bench-n. With --applications each one's list is read through the API,
which also proves the service reads the seeded rows; a worker without any is
an error. With --refresh, M further sign-ins (codes refresh-…) give the
refresh tokens of M separate sessions.
"""

import argparse
import json
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def call(base, method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method)
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def lua(value):
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(lua(v) for v in value) + "}"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid Lua string here (ASCII)
    return str(value)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("out")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--applications", action="store_true")
    parser.add_argument("--refresh", type=int, default=0)
    parser.add_argument("--counties", default="")
    parser.add_argument("--owed-from", default="")
    parser.add_argument("--owed-to", default="")
    parser.add_argument("--prefix", default="bench")
    args = parser.parse_args()
    base = args.base

    def worker(n):
        session = call(base, "POST", "/api/v1/auth/wechat/login", {"code": f"bench-{n}"})
        entry = {"token": session["access_token"], "applications": []}
        if args.applications:
            listed = call(base, "GET", "/api/v1/applications?page_size=100", token=session["access_token"])
            entry["applications"] = [item["id"] for item in listed["items"]]
            if not entry["applications"]:
                raise SystemExit(f"worker bench-{n} has no applications: the seed is not what the service reads")
        return entry

    def refresh(n):
        session = call(base, "POST", "/api/v1/auth/wechat/login", {"code": f"{args.prefix}-refresh-{n}"})
        return session["refresh_token"]

    with ThreadPoolExecutor(8) as pool:
        workers = list(pool.map(worker, range(args.workers)))
        refresh_tokens = list(pool.map(refresh, range(args.refresh)))

    data = {
        "workers": workers,
        "refresh_tokens": refresh_tokens,
        "counties": [c for c in args.counties.split(",") if c],
        "owed_from": args.owed_from,
        "owed_to": args.owed_to,
    }
    with open(args.out, "w") as out:
        out.write("return " + lua(data) + "\n")
    applications = sum(len(w["applications"]) for w in workers)
    print(f"signed in {len(workers)} workers ({applications} applications), "
          f"{len(refresh_tokens)} refresh sessions", file=sys.stderr)


if __name__ == "__main__":
    main()
