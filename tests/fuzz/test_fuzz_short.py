"""Short runs of every fuzz target, and proof that the runner catches what it looks for.

Each target runs for a couple of seconds with greenmq's own engine (no extra
needed, and ``seed`` makes the mutations repeatable); the long runs are a
command (``python -m greenmq.fuzz TARGET --seconds N``), not a test. The
second half feeds deliberately broken doubles through the same runner --
a decoder that allocates what a header announces, one that loops, one that
raises, a target whose allowed errors are too narrow -- and checks that each
is reported with the input that broke it, so a clean short run means something.
"""

from __future__ import annotations

import io
import logging

import pytest

from greenmq.fuzz import builtin, cli, libfuzzer, main
from greenmq.fuzz.cli import fuzz_target
from greenmq.fuzz.engine_target import EngineTarget
from greenmq.fuzz.invariants import Checker, Finding
from greenmq.fuzz.protocol_targets import FramesTarget
from greenmq.fuzz.target import Target, known_targets, make_target
from greenmq.fuzz.value_targets import OptionsTarget
from greenmq.zmtp import FrameDecoder, ZmtpError

TARGETS = sorted(known_targets())
SECONDS = 1.5
RUNS = 3000


def test_every_promised_target_exists():
    assert set(TARGETS) >= {"frames", "greeting", "null-server", "null-client", "plain-server", "plain-client",
                            "curve-server", "curve-client", "zap-reply", "z85", "endpoint", "options", "engine"}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.curve) if name.startswith("curve") else name
                                  for name in TARGETS])
def test_short_run_finds_nothing(name):
    result = fuzz_target(name, "builtin", SECONDS, RUNS, seed=13, corpus=None)
    assert result.finding is None, f"{name}: {result.finding}\ninput: {result.finding.data.hex()}"
    assert result.inputs > len(make_target_seeds(name)), "the run went beyond its seeds"
    assert result.coverage > 0 and result.corpus > 0


def make_target_seeds(name):
    target = make_target(name)
    try:
        return target.seeds()
    finally:
        target.close()


# -- the runner catches broken code ---------------------------------------------------------------


class GreedyDecoder(Target):
    """A decoder double that allocates the size a long frame announces before any body arrives."""

    name = "greedy"
    errors = (ZmtpError,)
    max_message_size = 4096

    def seeds(self):
        return [b"\x02" + (100).to_bytes(8, "big") + b"x" * 100]

    def run(self, data):
        if len(data) >= 9 and data[0] & 2:
            size = int.from_bytes(data[1:9], "big")
            if size > 1 << 26:
                raise ZmtpError("larger than any test allows")
            bytearray(size)
        FrameDecoder(self.max_message_size).feed(data)


class LoopingDecoder(Target):
    """A decoder double that never returns once it sees a frame with the COMMAND and MORE flags."""

    name = "looping"
    errors = (ZmtpError,)
    time_bound = 0.2

    def seeds(self):
        return [b"\x00\x03abc", b"\x04\x05\x04PING"]

    def run(self, data):
        while data[:1] == b"\x05":
            pass
        try:
            FrameDecoder().feed(data)
        except ZmtpError:
            pass


class RaisingDecoder(Target):
    """A decoder double with an IndexError on a short command frame."""

    name = "raising"
    errors = (ZmtpError,)

    def seeds(self):
        return [b"\x04\x06\x05READY"]

    def run(self, data):
        decoder = FrameDecoder()
        decoder.feed(data)
        for body in decoder.commands:
            body[body[0] + 1]  # reads one byte past a command name that fills the body


class OneByteLosingDecoder(FrameDecoder):
    """A decoder double that drops input arriving one byte at a time in the middle of a frame."""

    def feed(self, data):
        if len(data) == 1 and not self.idle:
            return []
        return super().feed(data)


class ChunkSensitiveFrames(FramesTarget):
    """The real frames target, over the one-byte-losing decoder."""

    name = "chunk-sensitive"
    decoder = OneByteLosingDecoder


def fuzz_double(target, seconds=20):
    with Checker(target) as checker:
        return builtin.fuzz(checker, target.seeds(), seconds, 200_000, seed=7, corpus_dir=None)


@pytest.mark.parametrize("double, kind", [(GreedyDecoder(), "memory"), (LoopingDecoder(), "hang"),
                                          (RaisingDecoder(), "exception"), (ChunkSensitiveFrames(), "property")])
def test_runner_reports_a_broken_decoder(double, kind):
    result = fuzz_double(double)
    assert result.finding is not None, f"{double.name}: nothing found in {result.inputs} inputs"
    assert result.finding.kind == kind, result.finding
    with Checker(double) as checker, pytest.raises(Finding) as again:  # the saved input reproduces it
        checker.check(result.finding.data)
    assert again.value.kind == kind


class OnceGreedy(Target):
    """A double that allocates past the bound the first time it sees an input, and little the second
    time: the process's own rare peak, which the checker re-runs an input to tell from the input's."""

    errors = ()
    max_message_size = 1024
    memory_slack = 1024

    def __init__(self):
        self.seen = set()

    def seeds(self):
        return [b"x"]

    def run(self, data):
        first = data not in self.seen
        self.seen.add(data)
        return bytearray(64 * 1024 if first else 16)


def test_a_peak_that_does_not_recur_is_counted_not_found():
    with Checker(OnceGreedy()) as checker:
        checker.check(b"input")
    assert (checker.transient_peaks, checker.count) == (1, 1)
    assert checker.largest_transient >= 64 * 1024 > checker.peak_memory


def test_a_peak_that_recurs_is_a_finding():
    target = OnceGreedy()
    target.seen = _NeverSeen()
    with Checker(target) as checker, pytest.raises(Finding) as found:
        checker.check(b"input")
    assert found.value.kind == "memory" and "on a re-run" in found.value.detail and checker.transient_peaks == 0


class _NeverSeen(set):
    """A ``seen`` set that forgets: every run is a first run."""

    def __contains__(self, item):
        return False


def test_options_target_reports_an_error_pyzmq_would_not_raise():
    class TooStrict(OptionsTarget):
        ALLOWED = (TypeError, ValueError, OverflowError)  # a ZMQError now escapes as a finding

    target = TooStrict()
    try:
        result = fuzz_double(target, seconds=10)
    finally:
        target.close()
    assert result.finding is not None and "ZMQError" in result.finding.detail


def test_engine_target_reports_an_error_logged_by_greenmq():
    target = EngineTarget()
    try:
        seed = target.seeds()[0]
        with Checker(target) as checker:
            checker.check(seed)
            logging.getLogger("greenmq").error("a connection died of a bug")
            with pytest.raises(Finding) as found:
                checker.check(seed)
        assert found.value.kind == "property" and "a connection died of a bug" in found.value.detail
    finally:
        target.error_log.records.clear()
        target.close()


# -- the command ----------------------------------------------------------------------------------


def test_list_names_every_target():
    out = io.StringIO()
    assert main(["--list"], out) == 0
    listed = [line.split()[0] for line in out.getvalue().splitlines()]
    assert listed == TARGETS


def test_command_runs_a_target_and_saves_its_corpus(tmp_path):
    out = io.StringIO()
    # The run count ends the run, not the clock: 60 s is far more than 500 inputs take on a loaded machine.
    assert main(["z85", "--seconds", "60", "--runs", "500", "--seed", "3", "--engine", "builtin",
                 "--corpus", str(tmp_path)], out) == 0
    text = out.getvalue()
    assert "z85 [builtin]: 500 inputs" in text and "no invariant broken" in text
    saved = list(tmp_path.iterdir())
    assert saved, "coverage-increasing inputs are saved"
    replayed = io.StringIO()
    assert main(["z85", "--replay", *map(str, saved)], replayed) == 0
    assert replayed.getvalue().count(": ok") == len(saved)


def test_replay_reports_a_breaking_input(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "make_target", lambda name: RaisingDecoder())
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_bytes(b"\x04\x06\x04PINGx")
    bad.write_bytes(b"\x04\x06\x05READY")
    out = io.StringIO()
    assert main(["frames", "--replay", str(good), str(bad)], out) == 1
    assert f"{good}: ok" in out.getvalue()
    assert f"{bad}: exception: IndexError" in out.getvalue()


@pytest.mark.parametrize("argv", [[], ["no-such-target"]])
def test_bad_target_is_usage_error(argv):
    assert main(argv, io.StringIO()) == 2


def test_bad_option_is_usage_error():
    with pytest.raises(SystemExit) as exited:
        main(["frames", "--seconds", "soon"], io.StringIO())
    assert exited.value.code == 2


def test_without_atheris_the_command_says_so(monkeypatch):
    monkeypatch.setattr(libfuzzer, "available", lambda: False)
    out = io.StringIO()
    assert main(["zap-reply", "--seconds", "0.5", "--runs", "50"], out) == 0
    assert "atheris is not installed (pip install 'greenmq[fuzz]')" in out.getvalue()
    assert "zap-reply [builtin]" in out.getvalue()


@pytest.mark.skipif(not libfuzzer.available(), reason="needs atheris, greenmq's optional 'fuzz' extra")
def test_atheris_engine_runs_a_target():
    result = fuzz_target("z85", "atheris", 2, 5000, seed=1, corpus=None)
    assert result.finding is None
    assert result.inputs > 100 and result.coverage > 0
