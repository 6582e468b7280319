"""``@context()`` and ``@socket(...)``: a function gets a Context or Socket that lives for one call.

pyzmq's ``zmq.decorators``: the decorated function is called with the new object
added to its arguments, inside a ``with`` block, so the socket is closed (and the
context terminated) when the call returns or raises::

    @context()
    @socket(zmq.PUSH)
    def work(ctx, push):
        ...

Where the object goes: with a name (the first positional argument of the
decorator if it is a string, or ``name=``), as that keyword argument -- a
TypeError if the caller passed it too; without one, after the caller's
positional arguments.
"""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable, Protocol, TypeVar, cast

from .context import Context

__all__ = ("context", "socket")

_F = TypeVar("_F", bound=Callable[..., object])


class _Decorator(Protocol):
    def __call__(self, func: _F) -> _F: ...


def _split_name(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str | None, tuple[Any, ...]]:
    """The keyword the object is passed as (or None), and the arguments left for its constructor.

    A string ``name=`` is taken out of ``kwargs`` (which is changed); otherwise a leading string
    argument is the name."""
    if isinstance(kwargs.get("name"), str):
        return kwargs.pop("name"), args
    if args and isinstance(args[0], str):
        return args[0], args[1:]
    return None, args


def _decorator(name: str | None, make: Callable[[tuple[Any, ...], dict[str, Any]], Any]) -> _Decorator:
    """Wrap a function so that each call runs inside ``with make(call_args, call_kwargs) as obj``,
    with ``obj`` passed as keyword ``name`` or, without a name, as one more positional argument."""

    def decorate(func: _F) -> _F:
        @wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            if name is not None and name in kwargs:
                raise TypeError(f"{func.__name__}() got multiple values for argument '{name}'")
            with make(args, kwargs) as obj:
                if name is None:
                    return func(*args, obj, **kwargs)
                return func(*args, **{**kwargs, name: obj})

        return cast(_F, call)

    return decorate


def context(*args: Any, **kwargs: Any) -> _Decorator:
    """Call the function with a new ``Context(*args, **kwargs)``, terminated when the call ends.

    ``name`` (or a first string argument) is the keyword argument the context is passed as.
    """
    name, args = _split_name(args, kwargs)
    return _decorator(name, lambda call_args, call_kwargs: Context(*args, **kwargs))


def socket(*args: Any, **kwargs: Any) -> _Decorator:
    """Call the function with a new socket, ``ctx.socket(*args, **kwargs)``, closed when the call ends.

    ``name`` (or a first string argument) is the keyword argument the socket is passed as. The
    context ``ctx`` is found at call time: the keyword argument ``context_name`` (default
    ``"context"``) if it is a Context, else the first positional argument that is one (as an
    outer ``@context()`` passes it), else ``Context.instance()``.
    """
    name, args = _split_name(args, kwargs)
    context_name = kwargs.pop("context_name", "context")

    def find_context(call_args: tuple[Any, ...], call_kwargs: dict[str, Any]) -> Context:
        given = call_kwargs.get(context_name)
        if isinstance(given, Context):
            return given
        for arg in call_args:
            if isinstance(arg, Context):
                return arg
        return Context.instance()

    return _decorator(name, lambda call_args, call_kwargs: find_context(call_args, call_kwargs).socket(*args, **kwargs))
