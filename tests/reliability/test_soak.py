"""``python -m greenmq soak`` for real: a minute of mixed traffic with peers restarting, and its self-test.

The minute must end with every pattern carrying traffic, peers restarted,
nothing lost while all were up and the long-lived peers' memory flat over
the second half. The self-test makes the receivers drop one message while
everything is up (GREENMQ_SOAK_SELFTEST_DROP, read only by the soak's peer
processes) and the soak must then fail, naming the loss: a soak that cannot
fail proves nothing.
"""

import json

import pytest
from cli_support import CliGroup

from greenmq.soak.peer import SELFTEST_DROP

RSS_GROWTH_LIMIT_MB = 8.0  # over the last half of a minute; the peers sit near 30 MB and grow by < 1 MB


@pytest.fixture
def cli():
    group = CliGroup()
    yield group
    group.close()


def soak(cli, tmp_path, *args, timeout):
    """Run the soak with ``args``; (exit status, the output, the JSON figures)."""
    figures = tmp_path / "soak.json"
    status, out, err = cli.run("soak", *args, "--json", str(figures), timeout=timeout)
    text = b"\n".join(out).decode() + "\n" + err
    return status, text, json.loads(figures.read_text())


@pytest.mark.timeout(240)
def test_a_minute_of_traffic_with_restarts_loses_nothing_it_should_not(cli, tmp_path):
    status, text, figures = soak(cli, tmp_path, "--seconds", "60", "--restart-every", "4", timeout=200)
    assert status == 0, text
    assert figures["ok"] and not figures["failures"] and not figures["crashes"], text
    assert figures["restarts_total"] >= 5, text
    for pattern, tally in figures["patterns"].items():
        assert tally["received"] > 1000, (pattern, text)
        assert tally["lost_unexplained"] == 0 and tally["duplicated"] == 0 and tally["corrupt"] == 0, text
        assert tally["received"] + tally["lost_allowed"] == tally["sent"], (pattern, text)
    assert 0 < figures["reqrep_latency_ms"]["p50"] <= figures["reqrep_latency_ms"]["p99"]
    assert set(figures["rss"]) == {"pub-a", "req-1", "sub-1", "push-1"}
    for name, rss in figures["rss"].items():
        assert rss["start_mb"] > 0 and rss["max_mb"] >= rss["end_mb"], (name, rss)
        assert rss["growth_last_half_mb"] < RSS_GROWTH_LIMIT_MB, (name, text)
        assert len(figures["rss_over_time"][name]) >= 10
    assert "soak: ok" in text


@pytest.mark.timeout(120)
def test_a_message_dropped_while_all_are_up_fails_the_soak(cli, tmp_path, monkeypatch):
    # The message 250 numbers after the first one a receiver got from a sender goes 2.5 s after that
    # first one, when both ends' windows have closed (--settle 1) and no restart opens another.
    monkeypatch.setenv(SELFTEST_DROP, "250")
    status, text, figures = soak(cli, tmp_path, "--seconds", "5", "--settle", "1", "--restart-every", "1000",
                                 timeout=90)
    assert status == 1, text
    patterns = figures["patterns"]
    assert patterns["pushpull"]["lost_unexplained"] == 2, text  # push-1 and push-2, each once
    assert patterns["pubsub"]["lost_unexplained"] == 4, text  # pub-a and pub-b, at sub-1 and sub-2
    assert patterns["reqrep"]["lost_unexplained"] == 0, text  # REQ/REP does not go through the tracker
    assert figures["restarts_total"] == 0 and not figures["ok"]
    assert "FAIL PUSH/PULL: lost unexplained 2" in text and "soak: FAILED" in text
