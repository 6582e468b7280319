"""The soak's figures as text (progress lines and the final table) and as JSON, and its verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

MB = 1024 * 1024
_TITLES = {"reqrep": "REQ/REP", "pubsub": "PUB/SUB", "pushpull": "PUSH/PULL"}


def rss_summary(samples: list[tuple[float, int]]) -> dict[str, float]:
    """Start, max and end RSS of one long-lived peer, in MB, and the growth over the last half of the run
    (the last sample minus the first one taken at or after half the run): the leak signal."""
    half = samples[-1][0] / 2
    middle = next(rss for elapsed, rss in samples if elapsed >= half)
    return {"start_mb": samples[0][1] / MB, "max_mb": max(rss for _, rss in samples) / MB,
            "end_mb": samples[-1][1] / MB, "growth_last_half_mb": (samples[-1][1] - middle) / MB}


def rss_series(samples: list[tuple[float, int]], points: int = 21) -> list[list[float]]:
    """About ``points`` of the samples, evenly spread from the first to the last: [seconds, MB] each."""
    step = max(1, (len(samples) - 1) // (points - 1))
    chosen = samples[::step]
    if chosen[-1] is not samples[-1]:
        chosen.append(samples[-1])
    return [[round(elapsed, 1), round(rss / MB, 2)] for elapsed, rss in chosen]


def figures(report: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """The report as the JSON file has it: the run's settings, the tallies, latency in ms, RSS in MB, verdict."""
    latency = {key: (value * 1000 if value is not None else None) for key, value in report["latency"].items()}
    result = {
        **settings,
        "seconds": round(report["elapsed"], 1),
        "final": report["final"],
        "patterns": report["patterns"],
        "reqrep_latency_ms": latency,
        "restarts": report["restarts"],
        "restarts_total": sum(report["restarts"].values()),
        "restarted": report["restarted"],
        "crashes": report["crashes"],
        "stalls": report["stalls"],
        "rss": {name: rss_summary(samples) for name, samples in report["rss"].items() if samples},
        "rss_over_time": {name: rss_series(samples) for name, samples in report["rss"].items() if samples},
    }
    result["failures"] = failures(result)
    result["ok"] = not result["failures"]
    return result


def failures(result: dict[str, Any]) -> list[str]:
    """Why the run failed: losses no restart explains, duplicates, damage, crashed or stalled peers, a
    silent pattern."""
    found = []
    for pattern, tally in result["patterns"].items():
        for field in ("lost_unexplained", "duplicated", "corrupt"):
            if tally[field]:
                found.append(f"{_TITLES[pattern]}: {field.replace('_', ' ')} {tally[field]}")
        if not tally["received"]:
            found.append(f"{_TITLES[pattern]}: no traffic")
    found.extend(f"crash: {crash}" for crash in result["crashes"])
    found.extend(f"stall: {stall}" for stall in result["stalls"])
    return found


def print_progress(result: dict[str, Any], out: TextIO) -> None:
    parts = [f"{_TITLES[name]} {tally['received']}/{tally['sent']} (unexplained {tally['lost_unexplained']})"
             for name, tally in result["patterns"].items()]
    rss = max((entry["end_mb"] for entry in result["rss"].values()), default=0.0)
    print(f"[{result['seconds']:7.0f} s] " + ", ".join(parts)
          + f"; restarts {result['restarts_total']}; largest RSS {rss:.1f} MB", file=out, flush=True)


def print_final(result: dict[str, Any], out: TextIO) -> None:
    print(f"\nsoak: {result['seconds']:.0f} s, seed {result['seed']}, restarts {result['restarts_total']} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(result['restarts'].items())) or 'none'}), "
          f"CURVE {'on' if result['curve'] else 'off'}", file=out)
    if result["restarted"]:
        print("restarted: " + ", ".join(f"{name} {count}" for name, count in sorted(result["restarted"].items())),
              file=out)
    if result.get("curve_note"):
        print(f"note: {result['curve_note']}", file=out)
    print(f"{'pattern':<10} {'sent':>10} {'received':>10} {'lost-allowed':>13} {'lost-unexplained':>17} "
          f"{'duplicated':>10} {'corrupt':>8}", file=out)
    for name, tally in result["patterns"].items():
        print(f"{_TITLES[name]:<10} {tally['sent']:>10} {tally['received']:>10} {tally['lost_allowed']:>13} "
              f"{tally['lost_unexplained']:>17} {tally['duplicated']:>10} {tally['corrupt']:>8}", file=out)
    latency = result["reqrep_latency_ms"]
    if latency["p50"] is not None:
        print(f"REQ/REP round trip: p50 {latency['p50']:.2f} ms, p99 {latency['p99']:.2f} ms "
              f"(histogram buckets 10 % wide); retries after a timeout: {result['patterns']['reqrep']['timeouts']}",
              file=out)
    print("RSS of the long-lived peers (MB): start / max / end / growth over the last half", file=out)
    for name, rss in sorted(result["rss"].items()):
        print(f"  {name:<8} {rss['start_mb']:7.1f} {rss['max_mb']:7.1f} {rss['end_mb']:7.1f} "
              f"{rss['growth_last_half_mb']:+7.1f}", file=out)
    for failure in result["failures"]:
        print(f"FAIL {failure}", file=out)
    verdict = "interrupted" if result.get("interrupted") else "ok" if result["ok"] else "FAILED"
    print(f"soak: {verdict}", file=out, flush=True)


def write_json(result: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(result, indent=2) + "\n")
