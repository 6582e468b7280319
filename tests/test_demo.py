"""The README's first command: ``python -m greenmq demo`` must work and tell its story."""

import subprocess
import sys


def test_demo_runs_pipeline_and_pair_signalling():
    result = subprocess.run(
        [sys.executable, "-m", "greenmq", "demo"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "ventilator: sent 20 tasks" in out
    assert "sink: collected 20 results" in out
    # Three workers shared the 20 tasks round-robin.
    assert "'worker-1': 7, 'worker-2': 7, 'worker-3': 6" in out
    assert "control: PAIR over inproc says 'batch done'" in out
    assert "pair/tcp: right received 'sent before the peer was listening'" in out
    assert out.rstrip().endswith("demo: finished")
