"""Transports: how a socket listens and connects (tcp, ipc) or pairs up in-process (inproc)."""
