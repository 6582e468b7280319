"""examples/radio_dish_telemetry.py: RADIO/DISH telemetry over udp does what its docstring says."""

import re

from example_support import EXAMPLE_TIMEOUT, run, start, wait_for_line


def test_self_test_dashboards_get_only_their_groups():
    result = run("radio_dish_telemetry.py", "--self-test", "--count", "12")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "dash-temperature: 12 readings of temperature: ok"
    assert re.fullmatch(r"dash-climate: 12 readings of (humidity, pressure|humidity|pressure): ok", lines[1])
    sent = int(re.fullmatch(r"sensor: (\d+) readings sent", lines[2]).group(1))
    assert sent >= 12
    assert lines[3:] == ["self-test: ok"]


def test_dish_and_radio_processes(processes):
    """A dish process joined to one group and a radio process sending all three, over udp on 127.0.0.1."""
    dish = start("radio_dish_telemetry.py", "dish", "udp://127.0.0.1:*", "humidity", "--count", "4")
    processes.append(dish)
    endpoint = wait_for_line(dish, "listening").split()[-1]
    radio = start("radio_dish_telemetry.py", "radio", endpoint, "--count", "0", "--interval", "5")
    processes.append(radio)
    out, err = dish.communicate(timeout=EXAMPLE_TIMEOUT)
    assert dish.returncode == 0, err
    readings = [re.fullmatch(r"dish: humidity: (\d+) sensor-\d [\d.-]+", line) for line in out.splitlines()]
    assert all(readings) and len(readings) == 4, out
    sequences = [int(match.group(1)) for match in readings]
    assert sequences == sorted(sequences)
    assert all(sequence % 3 == 1 for sequence in sequences)  # humidity is every third reading, from 1
