"""Sphinx configuration of greenmq's documentation.

Build it with ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` after
``pip install ".[docs]"``; CI (``.ci/run``) builds it the same way, with warnings as errors.
"""

import os
import sys

# The API reference documents the greenmq of this checkout, not whichever one is installed.
sys.path.insert(0, os.path.abspath(".."))

from greenmq.version import __version__  # noqa: E402 -- after the path is set

project = "greenmq"
author = "the greenmq authors"
copyright = "the greenmq authors; Mozilla Public License 2.0"
version = release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # pyzmq-style "Parameters" sections in the docstrings that have them
    "sphinx.ext.viewcode",
]

# The documents are reStructuredText only; snippets/ holds Python files shown by literalinclude.
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build", "snippets"]
root_doc = "index"

autodoc_member_order = "bysource"
# An override without a docstring of its own is left out rather than shown with its base class's
# (TopicLogger.info takes a topic first, which logging.Logger.info's docstring does not say).
autodoc_inherit_docstrings = False
autodoc_default_options = {"members": True}
# Signatures show the annotations; the descriptions stay the docstrings' prose.
autodoc_typehints = "signature"
# Optional modules that greenmq imports only when they are used.
autodoc_mock_imports = ["paramiko", "pexpect", "colorama"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
# "Attributes" sections as fields of the class, not as objects that autodoc documents again.
napoleon_use_ivar = True

html_theme = "alabaster"
html_title = f"greenmq {release}"
html_static_path: list[str] = []


def _skip_option_attributes(app, what, name, obj, skip, options):
    """Leave out the option attributes (``sock.linger``, ``sock.LINGER`` ...): one property per socket
    option, generated from the option table, each saying only "The X socket option". The class
    docstrings say how options are read and written; the options are libzmq's."""
    from greenmq.constants import SocketOption

    if isinstance(obj, property) and name.upper() in SocketOption.__members__:
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_option_attributes)
