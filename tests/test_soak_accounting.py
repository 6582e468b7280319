"""The soak's bookkeeping without any process: sequence tracking, loss classification, counters, verdict.

The soak itself runs in tests/reliability/test_soak.py; these check, with
plain numbers, the rules it judges by (greenmq/soak/accounting.py): which
missing messages a restart window excuses and which it does not.
"""

import io
import math

import pytest

from greenmq.cli.app import main as greenmq_main
from greenmq.soak import report
from greenmq.soak.accounting import Ledger, StallWatch, Windows
from greenmq.soak.cli import main as soak_main
from greenmq.soak.counters import Counters, bucket, bucket_top, percentile
from greenmq.soak.tracker import Tracker, decode, encode

LINKS = {"req-1": ("rep",), "rep": (), "pub": (), "sub": (), "push": (), "pull": ()}


def tracked(*messages, drop_after=None):
    """Feed (sender, seq, sent_at) triples to a Tracker; (verdicts, events, tracker)."""
    events = []
    tracker = Tracker(events.append, drop_after)
    verdicts = [tracker.see(*message) for message in messages]
    return verdicts, events, tracker


def test_the_tracker_reports_the_first_message_of_each_sender_and_every_gap():
    verdicts, events, tracker = tracked(("a#1", 5, 1.0), ("a#1", 6, 1.1), ("b#1", 0, 1.2), ("a#1", 9, 1.5))
    assert verdicts == ["new"] * 4
    assert events == [
        {"event": "first", "sender": "a#1", "seq": 5, "sent_at": 1.0},
        {"event": "first", "sender": "b#1", "seq": 0, "sent_at": 1.2},
        {"event": "gap", "sender": "a#1", "after": 6, "before": 9, "from": 1.1, "to": 1.5},
    ]
    assert tracker.last() == {"a#1": 9, "b#1": 0}


def test_a_number_seen_again_or_going_back_is_a_duplicate():
    verdicts, events, tracker = tracked(("a#1", 3, 1.0), ("a#1", 3, 1.0), ("a#1", 2, 0.9), ("a#1", 4, 1.1))
    assert verdicts == ["new", "duplicate", "duplicate", "new"]
    assert [event["event"] for event in events] == ["first"]
    assert tracker.last() == {"a#1": 4}


def test_the_self_test_drop_makes_a_gap_of_one_counted_from_the_first_message_received():
    verdicts, events, _ = tracked(("a#1", 7, 1.0), ("a#1", 8, 1.1), ("a#1", 9, 1.2), ("b#1", 0, 1.3),
                                  ("b#1", 1, 1.4), ("b#1", 2, 1.5), drop_after=1)
    assert verdicts == ["new", "dropped", "new", "new", "dropped", "new"]
    assert events[1] == {"event": "gap", "sender": "a#1", "after": 7, "before": 9, "from": 1.0, "to": 1.2}
    assert events[3] == {"event": "gap", "sender": "b#1", "after": 0, "before": 2, "from": 1.3, "to": 1.5}


def test_messages_decode_to_what_was_encoded_and_damage_is_noticed():
    message = encode("pub-a#2", 300, 12.5, 40)
    assert decode(message) == ("pub-a#2", 300, 12.5)
    assert decode(encode("x#1", 0, 0.0, 0)) == ("x#1", 0, 0.0)
    damaged = bytearray(message)
    damaged[-1] ^= 1
    assert decode(bytes(damaged)) is None
    assert decode(b"no header line") is None
    assert decode(b"a b\n") is None


def test_windows_overlap_intervals_of_their_own_slots_only():
    windows = Windows()
    windows.open("pub", 10.0)
    assert windows.overlaps(("pub",), 100.0, 101.0)  # still open
    windows.close("pub", 16.0)
    assert windows.overlaps(("pub",), 15.0, 20.0)
    assert windows.overlaps(("sub", "pub"), 5.0, 10.0)
    assert not windows.overlaps(("pub",), 16.5, 20.0)
    assert not windows.overlaps(("sub",), 12.0, 13.0)
    assert windows.all_closed_by() == 16.0
    windows.open("sub", 30.0)
    assert windows.all_closed_by() == math.inf


def ledger_with_windows(*spans):
    ledger = Ledger(LINKS)
    for slot, start, end in spans:
        ledger.windows.open(slot, start)
        ledger.windows.close(slot, end)
    return ledger


def gap(sender, after, before, start, end):
    return {"event": "gap", "sender": sender, "after": after, "before": before, "from": start, "to": end}


def test_a_gap_while_both_ends_were_up_is_unexplained_and_counted_in_full():
    ledger = ledger_with_windows(("pub", 0.0, 5.0), ("sub", 0.0, 5.0))
    ledger.record("sub", gap("pub#1", 99, 103, 20.0, 20.1))
    assert ledger.unexplained({"pub", "sub"}) == 3


def test_a_gap_inside_a_window_of_either_end_is_allowed():
    ledger = ledger_with_windows(("pub", 0.0, 5.0), ("sub", 0.0, 5.0), ("sub", 19.0, 25.0))
    ledger.record("sub", gap("pub#1", 99, 103, 20.0, 20.1))
    assert ledger.unexplained({"pub", "sub"}) == 0


def test_a_restart_of_an_unrelated_peer_excuses_nothing():
    ledger = ledger_with_windows(("pub", 0.0, 5.0), ("sub", 0.0, 5.0), ("other", 19.0, 25.0))
    ledger.record("sub", gap("pub#1", 10, 12, 20.0, 20.1))
    assert ledger.unexplained({"pub", "sub", "other"}) == 1
    assert ledger.unexplained({"elsewhere"}) == 0  # another pattern's events are not its losses


def test_a_late_first_message_is_unexplained_unless_sent_while_an_end_was_starting():
    ledger = ledger_with_windows(("pub", 0.0, 5.0), ("sub", 0.0, 5.0), ("pub", 30.0, 36.0))
    ledger.record("sub", {"event": "first", "sender": "pub#1", "seq": 0, "sent_at": 1.0})
    ledger.record("sub", {"event": "first", "sender": "pub#2", "seq": 40, "sent_at": 31.0})  # slow joiner
    assert ledger.unexplained({"pub", "sub"}) == 0
    ledger.record("sub", {"event": "first", "sender": "pub#3", "seq": 7, "sent_at": 50.0})
    assert ledger.unexplained({"pub", "sub"}) == 7


def test_a_head_counts_from_what_an_earlier_incarnation_of_the_receiver_got():
    ledger = ledger_with_windows(("pub", 0.0, 5.0), ("sub", 0.0, 5.0))
    ledger.record("sub", {"event": "first", "sender": "pub#1", "seq": 0, "sent_at": 1.0})
    ledger.record("sub", gap("pub#1", 10, 20, 2.0, 2.1))  # inside the start windows: allowed
    ledger.record("sub", {"event": "first", "sender": "pub#1", "seq": 25, "sent_at": 60.0})  # a later incarnation
    assert ledger.unexplained({"pub", "sub"}) == 4  # 21..24


def test_timeouts_are_excused_by_the_client_or_its_server_restarting_only():
    ledger = ledger_with_windows(("req-1", 0.0, 5.0), ("rep", 0.0, 5.0), ("rep", 40.0, 46.0), ("sub", 20, 30))
    for start in (3.0, 21.0, 44.0, 70.0):
        ledger.record("req-1", {"event": "timeout", "from": start, "to": start + 3})
    assert ledger.unexplained({"req-1", "rep"}) == 2  # the ones at 21 (sub's restart is not rep's) and 70


def test_what_the_receivers_miss_at_the_end_is_unexplained():
    ledger = ledger_with_windows(("push", 0.0, 5.0), ("pull", 0.0, 5.0))
    ledger.record("pull", {"event": "first", "sender": "push#1", "seq": 0, "sent_at": 1.0})
    ledger.record("pull", {"event": "first", "sender": "push#2", "seq": 0, "sent_at": 1.0})
    ledger.record_end("pull", {"push#1": 499, "push#2": 450})
    assert ledger.unexplained({"push", "pull"}, {"push#1": 500, "push#2": 500}) == 49
    assert ledger.unexplained({"push", "pull"}, {"push#1": 500, "push#3": 10}) == 10  # push#3 never heard


def test_a_count_standing_still_is_a_stall_once_no_window_explains_it():
    windows = Windows()
    windows.open("pub", 0.0)
    windows.close("pub", 5.0)
    watch = StallWatch(windows, limit=8.0)
    slots = ("pub", "sub")
    assert watch.observe("sub#1", slots, 10, 1.0) is None
    assert watch.observe("sub#1", slots, 10, 10.0) is None  # 9 s, but the pub's window was open at 1-5
    assert watch.observe("sub#1", slots, 11, 11.0) is None  # progress
    assert watch.observe("sub#1", slots, 11, 19.0) is None  # 8 s: not more than the limit
    stall = watch.observe("sub#1", slots, 11, 20.0)
    assert stall is not None and stall.startswith("sub#1 made no progress for 9 s")
    assert watch.observe("sub#1", slots, 11, 30.0) is None  # told once
    assert watch.observe("other#1", ("other",), 0, 0.0) is None
    windows.open("other", 12.0)  # a restart in the pattern excuses the pause
    assert watch.observe("other#1", ("other",), 0, 20.0) is None


def test_counters_outlive_the_process_that_wrote_them(tmp_path):
    path = tmp_path / "peer.counters"
    writer = Counters(path)
    writer.add("sent", 41)
    writer.add("sent")
    writer.record_latency(0.002)
    reader = Counters(path)  # another mapping of the same file, as the coordinator has
    writer.close()  # (a SIGKILL leaves the file just as it is)
    assert reader.get("sent") == 42
    assert reader.snapshot()["received"] == 0
    assert sum(reader.histogram()) == 1
    reader.close()


def test_latency_buckets_and_percentiles():
    assert bucket(0.0) == 0
    for seconds in (2e-5, 0.001, 0.25, 3.0):
        assert bucket_top(bucket(seconds) - 1) < seconds <= bucket_top(bucket(seconds)) * (1 + 1e-9)
    histogram = [0] * 200
    histogram[bucket(0.001)] = 98
    histogram[bucket(0.5)] = 2
    assert percentile(histogram, 50) == pytest.approx(0.001, rel=0.1)
    assert percentile(histogram, 98) == pytest.approx(0.001, rel=0.1)
    assert percentile(histogram, 99) == pytest.approx(0.5, rel=0.1)
    assert percentile([0] * 200, 99) is None


def test_rss_growth_is_measured_over_the_last_half():
    mb = 1024 * 1024
    summary = report.rss_summary([(0.0, 30 * mb), (10.0, 40 * mb), (50.0, 41 * mb), (100.0, 43 * mb)])
    assert summary == {"start_mb": 30.0, "max_mb": 43.0, "end_mb": 43.0, "growth_last_half_mb": 2.0}
    samples = [(float(second), (30 + second // 10) * mb) for second in range(101)]
    series = report.rss_series(samples, points=11)
    assert series[0] == [0.0, 30.0] and series[-1] == [100.0, 40.0] and len(series) == 11
    assert report.rss_series(samples[:3], points=11) == [[0.0, 30.0], [1.0, 30.0], [2.0, 30.0]]


def test_the_verdict_names_every_reason_to_fail():
    tally = {"sent": 10, "received": 10, "lost_allowed": 0, "lost_unexplained": 0, "duplicated": 0,
             "corrupt": 0, "timeouts": 0}
    result = {"patterns": {"reqrep": dict(tally), "pubsub": dict(tally, lost_unexplained=3),
                           "pushpull": dict(tally, received=0, duplicated=1)},
              "crashes": ["pull#2 exited with status 1"], "stalls": ["sub-1#1 made no progress"]}
    assert report.failures(result) == ["PUB/SUB: lost unexplained 3", "PUSH/PULL: duplicated 1",
                                       "PUSH/PULL: no traffic", "crash: pull#2 exited with status 1",
                                       "stall: sub-1#1 made no progress"]
    result["patterns"] = {name: dict(tally) for name in ("reqrep", "pubsub", "pushpull")}
    result["crashes"] = result["stalls"] = []
    assert report.failures(result) == []


@pytest.mark.parametrize("argv", [[], ["--seconds", "0"], ["--minutes", "1", "--restart-every", "0"],
                                  ["--seconds", "5", "--settle", "-1"], ["--minutes", "x"]])
def test_a_bad_command_line_is_exit_status_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        soak_main(argv, io.StringIO())
    assert exited.value.code == 2
    assert "usage: python -m greenmq soak" in capsys.readouterr().err


def test_greenmq_hands_soak_its_command_line(capsys):
    with pytest.raises(SystemExit) as exited:
        greenmq_main(["soak", "--help"])
    assert exited.value.code == 0
    assert "--restart-every SECONDS" in capsys.readouterr().out
