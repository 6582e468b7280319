"""Shadows, as pyzmq has them for contexts and sockets: several Python objects on one thing.

pyzmq's ``Socket.shadow(address)`` and ``Context.shadow(address)`` wrap the libzmq object at a C
address; its ``.underlying`` is that address. greenmq has no C objects, so the address is the
``id()`` of the original Python object, kept in a weak registry so that it turns back into that
object within the process. A shadow shares the original's ``__dict__``, hence all of its state
(messages, options, closing); only what a class keeps in slots (``_shadow``, ``_shadow_obj``, and
whatever else it lists) is the shadow's own. Dropping a shadow closes nothing.
"""

from __future__ import annotations

import weakref
from typing import Any, ClassVar, TypeVar

from .error import zmq_error

_T = TypeVar("_T", bound="Shadowable")


class Shadowable:
    """Mixin of ``Context`` and ``Socket``: ``shadow``, ``underlying`` and copies that are shadows.

    The class that names ``unknown_address_errno`` in its bases (``class Socket(...,
    Shadowable, unknown_address_errno=...)``) is a root: it and its subclasses share one registry
    of addresses, and an address missing from it raises ZMQError with that errno (libzmq's answer
    for what is no socket, or no context). The root's ``__init__`` calls :meth:`_share` when given
    something to shadow, and its slots hold ``_shadow`` and ``_shadow_obj``.
    """

    _shadow_root: ClassVar[type[Shadowable]]
    _addresses: ClassVar[weakref.WeakValueDictionary[int, Any]]
    _unknown_address_errno: ClassVar[int]
    _shadow: bool
    _shadow_obj: Any
    _handle = 0  # the underlying address, once asked for

    def __init_subclass__(cls, unknown_address_errno: int | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if unknown_address_errno is not None:
            cls._shadow_root = cls
            cls._addresses = weakref.WeakValueDictionary()
            cls._unknown_address_errno = unknown_address_errno

    def _share(self, address: Any) -> None:
        """Become a shadow of the object at ``address`` (an object of the root class or its address);
        ValueError, as in pyzmq, for anything else that is not an int."""
        root = self._shadow_root
        target: Shadowable
        if isinstance(address, root):
            target = address
        elif isinstance(address, int):
            found = self._addresses.get(address)
            if found is None:
                raise zmq_error(self._unknown_address_errno)
            target = found
        else:
            name = root.__name__
            raise ValueError(f"cannot shadow {address!r}: a {name} or a {name}'s underlying address is needed")
        target.underlying  # noqa: B018 -- registers the address, so that it names the original
        object.__setattr__(self, "__dict__", target.__dict__)
        self._shadow = True
        self._shadow_obj = target  # keeps the original alive, as in pyzmq

    @classmethod
    def shadow(cls: type[_T], address: Any) -> _T:
        """A new object of this class on the same thing as ``address`` (an object, or its
        :attr:`underlying` address), sharing all of its state; dropping it closes nothing."""
        return cls(shadow=address)  # type: ignore[call-arg]  # the roots' __init__ take shadow=

    @property
    def underlying(self) -> int:
        """This object's address: an int that :meth:`shadow` turns back into it (in this process)."""
        handle = self._handle
        if not handle:
            handle = self._handle = id(self)
            self._addresses[handle] = self
        return handle

    def __copy__(self: _T) -> _T:
        """A copy is a shadow, as in pyzmq."""
        return type(self).shadow(self.underlying)

    def __deepcopy__(self: _T, memo: Any) -> _T:
        return self.__copy__()
