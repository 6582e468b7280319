"""pytest plugin for the conformance run: leave out exactly the tests that ``out_of_scope.txt`` names.

pytest's own ``--deselect`` matches node-id *prefixes*, so leaving out
``test_pyzmq_version`` also left out ``test_pyzmq_version_info``. This plugin
compares whole node ids. The file is named by ``GREENMQ_OUT_OF_SCOPE``.
"""

import os


def pytest_collection_modifyitems(config, items):
    path = os.environ.get("GREENMQ_OUT_OF_SCOPE")
    if not path:
        return
    with open(path) as listing:
        names = {line.partition("  ")[0].strip() for line in listing
                 if line.strip() and not line.startswith("#")}
    kept, left_out = [], []
    for item in items:
        (left_out if item.nodeid in names else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
