#!/usr/bin/env python
"""A peer built on a libzmq with the draft API, driven through ctypes, for greenmq's draft interop tests.

    python draft_peer.py LIBZMQ_SO [--script JSON] [--lifetime SECONDS]

pyzmq has no draft socket types, so this program loads a draft libzmq.so
itself (tests/interop/build_draft_libzmq.py makes one) and calls it through
ctypes. It runs in a process of its own, as every libzmq peer of the tests
does, and never imports pyzmq or greenmq: the test's side is
draft_support.DraftPeer.

It obeys operations, each a JSON object with an ``op`` (see OPERATIONS):
first those of ``--script`` (a JSON list), then one a line from stdin.
Sockets are numbered from 0 in the order ``socket`` creates them; bytes
travel as hex (``data``, ``group``, ``hex`` option values).

On stdout, one line each:

``ready <endpoint>``
    once the script has run; the endpoint is the last one the script bound
    or connected (``-`` if none), read back through ``ZMQ_LAST_ENDPOINT``.
``{"id": ..., "ok": true, ...}``
    the answer to a stdin operation, echoing its ``id``; ``"ok": false``
    with ``errno``, ``error`` (its name) and ``message`` (zmq_strerror) when
    libzmq said no.
``error <json>``
    a script operation failed; the program exits.

It always ends by itself: every blocking call has a timeout (``timeout``,
in ms, default 10 s), a watchdog ends the process after ``--lifetime``
seconds, and EOF on stdin (the test went away) or ``quit`` ends it.

The function signatures, socket types and option numbers are those of
libzmq's zmq.h (the draft ones under ZMQ_BUILD_DRAFT_API).
"""

import argparse
import ctypes
import errno
import json
import os
import sys
import threading

# -- zmq.h ------------------------------------------------------------------------------------

SOCKET_TYPES = {
    "PAIR": 0, "PUB": 1, "SUB": 2, "REQ": 3, "REP": 4, "DEALER": 5, "ROUTER": 6, "PULL": 7, "PUSH": 8,
    "XPUB": 9, "XSUB": 10, "STREAM": 11,
    # draft
    "SERVER": 12, "CLIENT": 13, "RADIO": 14, "DISH": 15, "GATHER": 16, "SCATTER": 17, "DGRAM": 18,
    "PEER": 19, "CHANNEL": 20,
}

OPTIONS = {
    "AFFINITY": 4, "ROUTING_ID": 5, "SUBSCRIBE": 6, "UNSUBSCRIBE": 7, "RATE": 8, "SNDBUF": 11, "RCVBUF": 12,
    "RCVMORE": 13, "EVENTS": 15, "TYPE": 16, "LINGER": 17, "RECONNECT_IVL": 18, "BACKLOG": 19,
    "MAXMSGSIZE": 22, "SNDHWM": 23, "RCVHWM": 24, "MULTICAST_HOPS": 25, "RCVTIMEO": 27, "SNDTIMEO": 28,
    "LAST_ENDPOINT": 32, "ROUTER_MANDATORY": 33, "IMMEDIATE": 39, "PLAIN_SERVER": 44, "PLAIN_USERNAME": 45,
    "PLAIN_PASSWORD": 46, "CURVE_SERVER": 47, "CURVE_PUBLICKEY": 48, "CURVE_SECRETKEY": 49, "CURVE_SERVERKEY": 50,
    "PROBE_ROUTER": 51, "ZAP_DOMAIN": 55,
    "CONNECT_ROUTING_ID": 61, "HEARTBEAT_IVL": 75, "HEARTBEAT_TTL": 76, "HEARTBEAT_TIMEOUT": 77,
    # draft
    "ZAP_ENFORCE_DOMAIN": 93, "MULTICAST_LOOP": 96, "ROUTER_NOTIFY": 97, "XPUB_MANUAL_LAST_VALUE": 98,
    "IN_BATCH_SIZE": 101, "OUT_BATCH_SIZE": 102, "ONLY_FIRST_SUBSCRIBE": 108, "RECONNECT_STOP": 109,
    "HELLO_MSG": 110, "DISCONNECT_MSG": 111, "HICCUP_MSG": 114, "TOPICS_COUNT": 116,
}
INT64_OPTIONS = {4: ctypes.c_uint64, 22: ctypes.c_int64}  # AFFINITY, MAXMSGSIZE; all other numbers are int

DONTWAIT, SNDMORE = 1, 2
POLLIN, POLLOUT = 1, 2

_HAUSNUMERO = 156384712
ERRNO_NAMES = {**errno.errorcode, _HAUSNUMERO + 51: "EFSM", _HAUSNUMERO + 52: "ENOCOMPATPROTO",
               _HAUSNUMERO + 53: "ETERM", _HAUSNUMERO + 54: "EMTHREAD"}


class Msg(ctypes.Structure):
    """zmq_msg_t: 64 opaque bytes, pointer-aligned."""

    _fields_ = [("_", ctypes.c_uint64 * 8)]


class PollItem(ctypes.Structure):
    """zmq_pollitem_t (POSIX: the fd is an int)."""

    _fields_ = [("socket", ctypes.c_void_p), ("fd", ctypes.c_int), ("events", ctypes.c_short),
                ("revents", ctypes.c_short)]


def load(path):
    """The library, with the signature of each function the peer calls."""
    lib = ctypes.CDLL(path)
    c_int, c_void_p, c_char_p, c_size_t, c_uint32 = (ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
                                                      ctypes.c_size_t, ctypes.c_uint32)
    msg_p = ctypes.POINTER(Msg)
    signatures = {
        "zmq_version": (None, [ctypes.POINTER(c_int)] * 3),
        "zmq_has": (c_int, [c_char_p]),
        "zmq_errno": (c_int, []),
        "zmq_strerror": (c_char_p, [c_int]),
        "zmq_ctx_new": (c_void_p, []),
        "zmq_ctx_term": (c_int, [c_void_p]),
        "zmq_socket": (c_void_p, [c_void_p, c_int]),
        "zmq_close": (c_int, [c_void_p]),
        "zmq_setsockopt": (c_int, [c_void_p, c_int, c_void_p, c_size_t]),
        "zmq_getsockopt": (c_int, [c_void_p, c_int, c_void_p, ctypes.POINTER(c_size_t)]),
        "zmq_bind": (c_int, [c_void_p, c_char_p]),
        "zmq_connect": (c_int, [c_void_p, c_char_p]),
        "zmq_unbind": (c_int, [c_void_p, c_char_p]),
        "zmq_disconnect": (c_int, [c_void_p, c_char_p]),
        "zmq_msg_init": (c_int, [msg_p]),
        "zmq_msg_init_size": (c_int, [msg_p, c_size_t]),
        "zmq_msg_data": (c_void_p, [msg_p]),
        "zmq_msg_size": (c_size_t, [msg_p]),
        "zmq_msg_more": (c_int, [msg_p]),
        "zmq_msg_send": (c_int, [msg_p, c_void_p, c_int]),
        "zmq_msg_recv": (c_int, [msg_p, c_void_p, c_int]),
        "zmq_msg_close": (c_int, [msg_p]),
        "zmq_poll": (c_int, [ctypes.POINTER(PollItem), c_int, ctypes.c_long]),
        # draft
        "zmq_join": (c_int, [c_void_p, c_char_p]),
        "zmq_leave": (c_int, [c_void_p, c_char_p]),
        "zmq_connect_peer": (c_uint32, [c_void_p, c_char_p]),
        "zmq_msg_set_routing_id": (c_int, [msg_p, c_uint32]),
        "zmq_msg_routing_id": (c_uint32, [msg_p]),
        "zmq_msg_set_group": (c_int, [msg_p, c_char_p]),
        "zmq_msg_group": (c_char_p, [msg_p]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)  # AttributeError: not a draft build
        function.restype = restype
        function.argtypes = argtypes
    return lib


# -- the operations -----------------------------------------------------------------------------


class ZmqError(Exception):
    def __init__(self, lib, call):
        self.errno = lib.zmq_errno()
        self.call = call
        super().__init__(f"{call}: {lib.zmq_strerror(self.errno).decode()}")

    def answer(self):
        return {"ok": False, "errno": self.errno, "error": ERRNO_NAMES.get(self.errno, str(self.errno)),
                "message": str(self)}


class Peer:
    """One context, its sockets, and the operations on them (OPERATIONS names them)."""

    def __init__(self, lib):
        self.lib = lib
        self.ctx = lib.zmq_ctx_new()
        self.sockets = []
        self.last_endpoint = None

    def _check(self, rc, call):
        if rc < 0:
            raise ZmqError(self.lib, call)
        return rc

    def _socket(self, command):
        return self.sockets[command["socket"]]

    def _set(self, sock, option, value):
        """zmq_setsockopt with ``value`` an int (int or int64 as the option wants) or bytes."""
        if isinstance(value, bytes):
            buffer, size = ctypes.create_string_buffer(value, len(value)), len(value)
        else:
            buffer = INT64_OPTIONS.get(option, ctypes.c_int)(value)
            size = ctypes.sizeof(buffer)
        self._check(self.lib.zmq_setsockopt(sock, option, ctypes.byref(buffer), size), f"zmq_setsockopt({option})")

    def _get(self, sock, option, kind):
        buffer = INT64_OPTIONS.get(option, ctypes.c_int)() if kind == "int" else ctypes.create_string_buffer(1024)
        size = ctypes.c_size_t(ctypes.sizeof(buffer))
        self._check(self.lib.zmq_getsockopt(sock, option, ctypes.byref(buffer), ctypes.byref(size)),
                    f"zmq_getsockopt({option})")
        if kind == "int":
            return buffer.value
        raw = buffer.raw[:size.value]
        return raw.rstrip(b"\0").decode() if kind == "str" else raw.hex()

    def _endpoint(self, sock):
        self.last_endpoint = self._get(sock, OPTIONS["LAST_ENDPOINT"], "str")
        return self.last_endpoint

    # Each op_NAME takes the command (a dict) and returns the fields of its answer.

    def op_socket(self, command):
        kind = command["type"]
        sock = self.lib.zmq_socket(self.ctx, SOCKET_TYPES[kind] if isinstance(kind, str) else kind)
        if not sock:
            raise ZmqError(self.lib, f"zmq_socket({kind})")
        self.sockets.append(sock)
        return {"socket": len(self.sockets) - 1}

    def op_setsockopt(self, command):
        option, value = _option_number(command["option"]), command["value"]
        if isinstance(value, dict):
            value = bytes.fromhex(value["hex"])
        elif isinstance(value, str):
            value = value.encode()
        self._set(self._socket(command), option, value)
        return {}

    def op_getsockopt(self, command):
        value = self._get(self._socket(command), _option_number(command["option"]), command.get("kind", "int"))
        return {"value": value}

    def op_bind(self, command):
        sock = self._socket(command)
        self._check(self.lib.zmq_bind(sock, command["endpoint"].encode()), "zmq_bind")
        return {"endpoint": self._endpoint(sock)}

    def op_connect(self, command):
        sock = self._socket(command)
        self._check(self.lib.zmq_connect(sock, command["endpoint"].encode()), "zmq_connect")
        return {"endpoint": self._endpoint(sock)}

    def op_disconnect(self, command):
        self._check(self.lib.zmq_disconnect(self._socket(command), command["endpoint"].encode()), "zmq_disconnect")
        return {}

    def op_connect_peer(self, command):
        sock = self._socket(command)
        routing_id = self.lib.zmq_connect_peer(sock, command["endpoint"].encode())
        if routing_id == 0:
            raise ZmqError(self.lib, "zmq_connect_peer")
        return {"routing_id": routing_id, "endpoint": self._endpoint(sock)}

    def op_join(self, command):
        self._check(self.lib.zmq_join(self._socket(command), bytes.fromhex(command["group"])), "zmq_join")
        return {}

    def op_leave(self, command):
        self._check(self.lib.zmq_leave(self._socket(command), bytes.fromhex(command["group"])), "zmq_leave")
        return {}

    def op_send(self, command):
        """One frame: ``data``, with ``routing_id``/``group`` set on it, ``more`` for SNDMORE."""
        sock, data = self._socket(command), bytes.fromhex(command.get("data", ""))
        self._set(sock, OPTIONS["SNDTIMEO"], command.get("timeout", 10000))
        msg = Msg()
        self._check(self.lib.zmq_msg_init_size(ctypes.byref(msg), len(data)), "zmq_msg_init_size")
        try:
            ctypes.memmove(self.lib.zmq_msg_data(ctypes.byref(msg)), data, len(data))
            if command.get("routing_id") is not None:
                self._check(self.lib.zmq_msg_set_routing_id(ctypes.byref(msg), command["routing_id"]),
                            "zmq_msg_set_routing_id")
            if command.get("group") is not None:
                self._check(self.lib.zmq_msg_set_group(ctypes.byref(msg), bytes.fromhex(command["group"])),
                            "zmq_msg_set_group")
            flags = (SNDMORE if command.get("more") else 0) | (DONTWAIT if command.get("dontwait") else 0)
            self._check(self.lib.zmq_msg_send(ctypes.byref(msg), sock, flags), "zmq_msg_send")
        except ZmqError:
            self.lib.zmq_msg_close(ctypes.byref(msg))  # a sent message belongs to libzmq
            raise
        return {}

    def op_recv(self, command):
        """One frame within ``timeout`` ms: its data, routing id (0: none), group and more flag."""
        sock = self._socket(command)
        self._set(sock, OPTIONS["RCVTIMEO"], command.get("timeout", 10000))
        msg = Msg()
        self._check(self.lib.zmq_msg_init(ctypes.byref(msg)), "zmq_msg_init")
        try:
            size = self._check(self.lib.zmq_msg_recv(ctypes.byref(msg), sock, 0), "zmq_msg_recv")
            return {"data": ctypes.string_at(self.lib.zmq_msg_data(ctypes.byref(msg)), size).hex(),
                    "routing_id": self.lib.zmq_msg_routing_id(ctypes.byref(msg)),
                    "group": (self.lib.zmq_msg_group(ctypes.byref(msg)) or b"").hex(),
                    "more": bool(self.lib.zmq_msg_more(ctypes.byref(msg)))}
        finally:
            self.lib.zmq_msg_close(ctypes.byref(msg))

    def op_poll(self, command):
        """zmq_poll on ``items`` ([[socket, events], ...]) for ``timeout`` ms: the revents of each."""
        items = (PollItem * len(command["items"]))()
        for item, (index, events) in zip(items, command["items"]):
            item.socket, item.events = self.sockets[index], events
        self._check(self.lib.zmq_poll(items, len(items), command.get("timeout", 10000)), "zmq_poll")
        return {"revents": [item.revents for item in items]}

    def op_close(self, command):
        sock = self._socket(command)
        if command.get("linger") is not None:
            self._set(sock, OPTIONS["LINGER"], command["linger"])
        self._check(self.lib.zmq_close(sock), "zmq_close")
        self.sockets[command["socket"]] = None
        return {}

    def op_quit(self, command):
        """Close what is open with LINGER 0, end the context, exit."""
        for sock in self.sockets:
            if sock is not None:
                self._set(sock, OPTIONS["LINGER"], 0)
                self.lib.zmq_close(sock)
        self.lib.zmq_ctx_term(self.ctx)
        _answer({"id": command.get("id"), "ok": True})
        os._exit(0)

    def run(self, command):
        """The answer to one operation (``ok`` false with the errno when libzmq refuses it)."""
        try:
            fields = getattr(self, "op_" + command["op"])(command)
        except ZmqError as error:
            return {"id": command.get("id"), **error.answer()}
        return {"id": command.get("id"), "ok": True, **fields}


OPERATIONS = sorted(name[3:] for name in vars(Peer) if name.startswith("op_"))


def _option_number(option):
    return OPTIONS[option] if isinstance(option, str) else option


def _answer(fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def _watchdog(seconds):
    timer = threading.Timer(seconds, os._exit, (4,))
    timer.daemon = True
    timer.start()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("library", help="the draft libzmq.so")
    parser.add_argument("--script", type=json.loads, default=[], help="JSON list of operations run first")
    parser.add_argument("--lifetime", type=float, default=120.0, help="hard limit, seconds")
    args = parser.parse_args(argv)
    _watchdog(args.lifetime)
    peer = Peer(load(args.library))
    for command in args.script:
        answer = peer.run(command)
        if not answer["ok"]:
            sys.stdout.write(f"error {json.dumps({'op': command, **answer})}\n")
            sys.stdout.flush()
            return 1
    sys.stdout.write(f"ready {peer.last_endpoint or '-'}\n")
    sys.stdout.flush()
    for line in sys.stdin:
        if line.strip():
            _answer(peer.run(json.loads(line)))
    os._exit(3)  # EOF: the test is gone; exit without waiting for lingering messages


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
