"""JSON to and from UTF-8 bytes, as pyzmq's ``zmq.utils.jsonapi`` offers it (the standard ``json``)."""

from __future__ import annotations

import json
from typing import Any

#: The JSON module in use; pyzmq exposes it under this name.
jsonmod = json


def dumps(o: object, **kwargs: Any) -> bytes:
    """*o* as JSON, encoded in UTF-8; keyword arguments go to :func:`json.dumps`."""
    return json.dumps(o, **kwargs).encode("utf8")


def loads(s: bytes | str, **kwargs: Any) -> Any:
    """The object that the JSON text *s* (bytes in UTF-8, or str) stands for."""
    return json.loads(s.decode("utf8") if isinstance(s, bytes) else s, **kwargs)


__all__ = ["dumps", "loads", "jsonmod"]
