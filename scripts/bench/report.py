#!/usr/bin/env python3
"""Prints the load benchmark's results (the JSON lines bench.sh collected) as
a Markdown table, every throughput also as a ratio to the /healthz ceiling,
followed by the targets of issue 9 and whether each was met. Exits 0 either
way: a missed target is a result, not a failure of the benchmark."""

import argparse
import json


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--cpu", default="?")
    parser.add_argument("--cores", default="?")
    parser.add_argument("--server-core", default="0")
    parser.add_argument("--load-core", default="1")
    parser.add_argument("--services-core", default="")
    parser.add_argument("--connections", default="64")
    parser.add_argument("--duration", default="20s")
    args = parser.parse_args()

    rows = {}
    with open(args.results) as results:
        for line in results:
            row = json.loads(line)
            rows[row["scenario"]] = row
    ceiling = rows["healthz"]["rps"]
    ms = lambda us: f"{us / 1000:.2f}"

    services = (f"PostgreSQL and Redis on core {args.services_core}" if args.services_core
                else "PostgreSQL and Redis not pinned")
    print(f"Machine: {args.cpu}, {args.cores} cores; server on core {args.server_core}, "
          f"wrk and the fake WeChat on core {args.load_core}, {services}; {args.connections} connections, "
          f"{args.duration} per scenario.\n")
    print("| scenario | requests/s | × /healthz | p50 ms | p99 ms | p99.9 ms | requests | errors | peak RSS MB | RSS MB after |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in rows.items():
        if "rps" not in row:
            continue
        errors = row["non2xx"] + row["socket_errors"]
        print(f"| {name} | {row['rps']:,.0f} | {row['rps'] / ceiling:.3f} | {ms(row['p50_us'])} | "
              f"{ms(row['p99_us'])} | {ms(row['p999_us'])} | {row['requests']:,} | {errors:,} | "
              f"{row['hwm_kb'] / 1024:.1f} | {row['rss_kb'] / 1024:.1f} |")

    check = rows.get("wage_report_check", {})
    wage = rows.get("wage_report", {})
    if check:
        print(f"\nWage reports: {wage.get('new_keys', 0):,} new keys and {wage.get('retries', 0):,} retries "
              f"sent (counting the requests still in flight when wrk stopped), "
              f"{wage.get('status_201', 0):,} answered 201; the database holds "
              f"{check['reports_created']:,} new reports and {check['keys_done']:,} finished keys "
              f"({check['distinct_keys']:,} distinct) pointing at {check['distinct_reports']:,} distinct reports.")
    refresh = rows.get("token_refresh", {})
    if refresh:
        print(f"Token refresh: {refresh.get('rotated', 0):,} rotations, each with the token the previous one returned.")

    peak_mb = max(row.get("hwm_kb", 0) for row in rows.values()) / 1024
    no_duplicates = bool(check) and (
        check["reports_created"] == check["keys_done"] == check["distinct_keys"] == check["distinct_reports"]
    )
    targets = [("peak RSS ≤ 200 MB", f"{peak_mb:.1f} MB", peak_mb <= 200)]
    search = rows.get("policy_search")
    if search:
        targets += [
            ("policy search ≥ 0.35 × /healthz", f"{search['rps'] / ceiling:.3f} ×", search["rps"] >= 0.35 * ceiling),
            ("policy search p99 ≤ 5 ms", f"{ms(search['p99_us'])} ms", search["p99_us"] <= 5000),
        ]
    detail = rows.get("application_detail")
    if detail:
        targets.append(
            ("application detail ≥ 0.15 × /healthz", f"{detail['rps'] / ceiling:.3f} ×", detail["rps"] >= 0.15 * ceiling)
        )
    if wage:
        targets += [
            ("wage reports ≥ 2,000 req/s", f"{wage['rps']:,.0f} req/s", wage["rps"] >= 2000),
            ("wage reports: no duplicates", "none" if no_duplicates else "DUPLICATES OR MISMATCH", no_duplicates),
        ]
    print("\n| target | measured | met |")
    print("|---|---:|---|")
    for target, measured, met in targets:
        print(f"| {target} | {measured} | {'yes' if met else '**no**'} |")


if __name__ == "__main__":
    main()
