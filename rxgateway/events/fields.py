"""How a typed view reads one key of a payload: the :class:`Field` descriptor.

Every event and object view is a thin wrapper around a parsed JSON object (``raw``);
its fields are descriptors declared once, ``content = req(TEXT)``, that read
``raw[key]`` on each access and convert it. Nothing is read at construction, nothing
is cached: reading a field twice reads the dict twice.

The contract every view follows (GATEWAY.md §10.2, §11.4, §11.5):

* A **required** key (no ``?`` in the reference) that is absent or ``null`` raises
  :class:`MissingFieldError`, a ``KeyError`` that names the class and the key.
* An **optional** or **nullable** key (``key?`` or ``?type``) that is absent or
  ``null`` reads as ``None``. Use ``"key" in view.raw`` where the two differ.
* A value of the wrong JSON type raises ``TypeError``; a snowflake string that is not a
  number raises ``ValueError``; a ``raw`` that is not a dict raises ``TypeError``.
* Snowflakes and permission bitsets become ``int`` (strings or integers are
  accepted); timestamps stay ISO 8601 strings (``datetime.fromisoformat`` reads them);
  nested objects become views; lists become fresh lists on each access.

Example::

    >>> class Ping(View):
    ...     __slots__ = ()
    ...     id = req(SNOWFLAKE)
    ...     note = opt(TEXT)
    >>> Ping({"id": "42"}).id, Ping({"id": "42"}).note
    (42, None)
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Generic, Self, TypeVar, cast, overload

from ..errors import GatewayError

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

__all__ = [
    "BITSET",
    "BOOL",
    "FLOAT",
    "INT",
    "NONCE",
    "OBJECT",
    "OBJECTS",
    "SCALAR",
    "SNOWFLAKE",
    "SNOWFLAKES",
    "STRINGS",
    "TEXT",
    "Field",
    "Kind",
    "MissingFieldError",
    "list_of",
    "opt",
    "req",
    "view",
]


class MissingFieldError(GatewayError, KeyError):
    """A required key of a payload is absent or ``null``.

    Example::

        >>> try:
        ...     MessageCreate(ShardId.ONE, 1, "MESSAGE_CREATE", {}, EventType.MESSAGE_CREATE).content
        ... except MissingFieldError as e:
        ...     print(e)
        MessageCreate.content: required key 'content' is missing or null
    """

    def __str__(self) -> str:
        return str(self.args[0])


class Kind(Generic[T_co]):
    """How a JSON value becomes a ``T``.

    A value whose exact type is ``json_type`` takes the fast path: ``convert(value)``,
    or the value itself when there is no ``convert``. Any other non-null value goes to
    ``fallback`` (another accepted JSON type, e.g. a snowflake sent as an integer), or
    is refused with ``TypeError``.

    Example::

        >>> SNOWFLAKE.coerce("42"), SNOWFLAKE.coerce(42)
        (42, 42)
    """

    __slots__ = ("label", "json_type", "convert", "fallback")

    def __init__(
        self,
        label: str,
        json_type: type,
        convert: Callable[[Any], T_co] | None = None,
        fallback: Callable[[Any], T_co] | None = None,
    ) -> None:
        #: What the value should be, for error messages ("a snowflake").
        self.label = label
        self.json_type = json_type
        self.convert = convert
        self.fallback = fallback

    def coerce(self, value: Any) -> T_co:
        """Convert a value of any type, or raise ``TypeError``/``ValueError``."""
        if type(value) is not self.json_type:
            if self.fallback is None:
                raise TypeError(f"expected {self.label}, got {type(value).__name__}")
            return self.fallback(value)
        return cast(T_co, value) if self.convert is None else self.convert(value)

    def __repr__(self) -> str:
        return f"Kind({self.label!r})"


def _int_only(value: Any) -> int:
    """An integer that is not a bool (snowflakes Discord echoes as numbers, §11.4)."""
    if type(value) is int:
        return value
    raise TypeError(f"expected an integer or a numeric string, got {type(value).__name__}")


def _float_from_int(value: Any) -> float:
    return float(_int_only(value))


def _scalar(value: Any) -> str | int | float | bool:
    if type(value) in (int, float, bool):
        scalar: int | float | bool = value
        return scalar
    raise TypeError(f"expected a string, number or boolean, got {type(value).__name__}")


def _convert_list(item: Kind[T], values: list[Any]) -> list[T]:
    return [item.coerce(value) for value in values]


#: A string.
TEXT: Kind[str] = Kind("a string", str)
#: An integer (``true``/``false`` are refused).
INT: Kind[int] = Kind("an integer", int)
#: A number, as ``float`` (an integer is accepted).
FLOAT: Kind[float] = Kind("a number", float, fallback=_float_from_int)
#: ``true`` or ``false``.
BOOL: Kind[bool] = Kind("a boolean", bool)
#: A snowflake id as ``int``, sent as a string or (echoed ids, §11.4) an integer.
SNOWFLAKE: Kind[int] = Kind("a snowflake", str, int, _int_only)
#: A permission bitset as ``int``, sent as a decimal string.
BITSET: Kind[int] = Kind("a bitset", str, int, _int_only)
#: A message nonce: a string or an integer, kept as sent.
NONCE: Kind[str | int] = Kind("a string or integer", str, fallback=_int_only)
#: A command option value: string, number or boolean.
SCALAR: Kind[str | int | float | bool] = Kind("a string, number or boolean", str, fallback=_scalar)
#: A JSON object this library does not model (embeds, metadata ...), as the dict itself.
OBJECT: Kind[dict[str, Any]] = Kind("an object", dict)


def list_of(item: Kind[T]) -> Kind[list[T]]:
    """A JSON array whose every element is an ``item``; read into a new list.

    Example::

        >>> list_of(SNOWFLAKE).coerce(["1", 2])
        [1, 2]
    """
    return Kind(f"a list of ({item.label})", list, partial(_convert_list, item))


#: A list of snowflakes as ints.
SNOWFLAKES: Kind[list[int]] = list_of(SNOWFLAKE)
#: A list of strings.
STRINGS: Kind[list[str]] = list_of(TEXT)
#: A list of unmodelled objects (attachments, embeds, components ...).
OBJECTS: Kind[list[dict[str, Any]]] = list_of(OBJECT)


def view(cls: Callable[[dict[str, Any]], T], label: str | None = None) -> Kind[T]:
    """A nested JSON object wrapped in the view ``cls`` on access.

    ``cls`` is any callable taking the dict; pass ``lambda raw: Later(raw)`` for a view
    defined further down the module (a message's ``referenced_message``).

    Example::

        >>> view(User).coerce({"id": "1", "username": "a", "discriminator": "0"}).id
        1
    """
    return Kind(label or str(getattr(cls, "__name__", "an object")), dict, cls)


class Field(property, Generic[T_co]):
    """A read-only, typed field of a view: reads ``raw[key]`` and converts it on each
    access. Build one with :func:`req` or :func:`opt`; the key defaults to the
    attribute name.

    It is a ``property`` (so ``help()``, IPython and ``inspect`` treat it as one) whose
    getter is a closure specialised for its key and kind: the common case costs one
    dict lookup and one type check.
    """

    def __init__(self, kind: Kind[Any], key: str | None, required: bool) -> None:
        super().__init__()
        self.kind = kind
        self.required = required
        self.key = self.attr = ""
        if key:
            self._bind(key, key)

    def __set_name__(self, owner: type, name: str) -> None:
        self._bind(self.key or name, name)

    def _bind(self, key: str, attr: str) -> None:
        self.key, self.attr = key, attr
        property.__init__(self, self._build_getter())
        flavour = "required" if self.required else "``None`` when absent or null"
        self.__doc__ = f"``{key}``: {self.kind.label} ({flavour})."

    def _build_getter(self) -> Callable[[Any], Any]:
        get = dict.get
        key, json_type, convert, slow = self.key, self.kind.json_type, self.kind.convert, self._slow
        if convert is None:

            def read(view: Any) -> Any:
                value = get(view.raw, key)
                return value if type(value) is json_type else slow(view, value)

            return read

        def read_converted(view: Any) -> Any:
            value = get(view.raw, key)
            if type(value) is not json_type:
                return slow(view, value)
            try:
                return convert(value)
            except (TypeError, ValueError) as exc:  # "12a" as a snowflake, a bad list item
                raise self._explain(view, exc) from None

        return read_converted

    def _slow(self, view: Any, value: Any) -> Any:
        """Everything but a value of the expected type: null, absent, or another type."""
        if value is None:
            if self.required:
                where = f"{type(view).__name__}.{self.attr}"
                raise MissingFieldError(f"{where}: required key {self.key!r} is missing or null")
            return None
        try:
            return self.kind.coerce(value)
        except (TypeError, ValueError) as exc:
            raise self._explain(view, exc) from None

    def _explain(self, view: Any, exc: Exception) -> Exception:
        """``exc`` again, its message prefixed with where it happened."""
        error = TypeError if isinstance(exc, TypeError) else ValueError
        return error(f"{type(view).__name__}.{self.attr} ({self.key!r}): {exc}")

    if TYPE_CHECKING:

        @overload
        def __get__(self, instance: None, owner: type[Any] | None = None, /) -> Self: ...

        @overload
        def __get__(self, instance: object, owner: type[Any] | None = None, /) -> T_co: ...

        def __get__(self, instance: object, owner: type[Any] | None = None, /) -> Any: ...


def req(kind: Kind[T], key: str | None = None) -> Field[T]:
    """A required field: absent or null raises :class:`MissingFieldError`.

    Example::

        content = req(TEXT)                   # raw["content"] as str
        message_type = req(INT, "type")       # another attribute name than the key
    """
    return Field(kind, key, True)


def opt(kind: Kind[T], key: str | None = None) -> Field[T | None]:
    """An optional or nullable field: absent or null reads as ``None``.

    Example::

        guild_id = opt(SNOWFLAKE)             # None in DMs
    """
    return Field(kind, key, False)
