"""Records: the part of :mod:`dataclasses` the gate uses, at a fraction of its start-up cost.

``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis`` and ``tokenize``), and
compiles each generated method with ``exec`` as the class is created: the offline verdict
spent about 40 ms of its start there. Here ``__repr__``, ``__eq__``, ``__hash__`` and the
frozen ``__setattr__``/``__delattr__`` are closures (nothing compiled), and ``__init__`` is
generic for the first few instances, then compiled: a class never built costs nothing, one
built once or twice no compilation, and one built 300,000 times runs the same generated
code as dataclasses' own.

The semantics are dataclasses' (``eq=True``, ``frozen`` as asked, a method the class body
defines is kept, a mutable default is refused, fields inherited from a record base), for
the subset the gate uses: no ``order``, ``slots``, ``kw_only``, ``InitVar`` or
``init=False`` fields. tests/test_structs.py compares it with dataclasses.

``NamedTuple`` is ``typing.NamedTuple`` (to the type checker, and at run time without
importing ``typing``): ``class Row(NamedTuple)`` with annotated fields and defaults.
"""

from __future__ import annotations

from collections import namedtuple
from operator import attrgetter

__all__ = [
    "MISSING",
    "Field",
    "FrozenInstanceError",
    "NamedTuple",
    "field",
    "fields",
    "record",
    "replace",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NamedTuple, TypeVar, overload

    from typing_extensions import dataclass_transform

    T = TypeVar("T")
else:

    def overload(function):
        """At run time the overloads are for the type checker only: the last one wins."""
        return function

    def dataclass_transform(**_options):
        """Tells the type checker that ``record`` builds dataclass-like classes."""
        return overload


class FrozenInstanceError(AttributeError):
    """An assignment to (or deletion of) a field of a frozen record."""


class _Missing:
    """The absence of a default (``None`` is a default)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_HAS_FACTORY = object()
"""The stand-in default of a parameter whose field has a default factory."""


class Field:
    """One field of a record: its name, default or default factory, and whether repr shows
    it. ``field()`` makes one in a class body; ``fields()`` lists a record's."""

    __slots__ = ("default", "default_factory", "name", "repr")

    def __init__(self, default: Any, default_factory: Any, repr: bool) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, repr={self.repr})"

    @property
    def required(self) -> bool:
        """True when ``__init__`` needs a value for it."""
        return self.default is MISSING and self.default_factory is MISSING


@overload
def field(*, default: T, repr: bool = True) -> T: ...
@overload
def field(*, default_factory: Callable[[], T], repr: bool = True) -> T: ...  # noqa: F811
@overload
def field(*, repr: bool = True) -> Any: ...  # noqa: F811
def field(  # noqa: F811 - the overloads above are for the type checker
    *,
    default: Any = MISSING,
    default_factory: Any = MISSING,
    repr: bool = True,
) -> Any:
    """A field with a default, a default factory (called for each instance) or hidden
    from repr: ``dataclasses.field`` with the arguments the gate uses."""
    return Field(default, default_factory, repr)


@overload
def record(cls: type[T], /) -> type[T]: ...
@overload
def record(*, frozen: bool = True) -> Callable[[type[T]], type[T]]: ...  # noqa: F811
@dataclass_transform(field_specifiers=(field,), frozen_default=True)
def record(cls: type[T] | None = None, /, *, frozen: bool = True) -> Any:  # noqa: F811
    """``@record`` is ``@dataclass(frozen=True)``, ``@record(frozen=False)`` is
    ``@dataclass``: fields from the class annotations, in order."""

    def wrap(cls: type[T]) -> type[T]:
        return _build(cls, frozen)

    return wrap if cls is None else wrap(cls)


def fields(class_or_instance: object) -> tuple[Field, ...]:
    """The record's fields, in order (``dataclasses.fields``)."""
    found: tuple[Field, ...] | None = getattr(class_or_instance, "__record_fields__", None)
    if found is None:
        raise TypeError("must be called with a record type or instance")
    return found


def _replace(obj: T, /, **changes: Any) -> T:
    """A copy of record ``obj`` with ``changes``, built through its ``__init__`` (so that
    ``__post_init__`` runs again), as ``dataclasses.replace`` does."""
    for f in fields(obj):
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


if TYPE_CHECKING:
    # the type checker checks the changes against the fields for dataclasses.replace only
    from dataclasses import replace
else:
    replace = _replace


def _is_class_var(annotation: object) -> bool:
    """True for ``ClassVar[...]``: as a string (postponed annotations) or as the object.
    ``InitVar`` and ``KW_ONLY`` are refused rather than taken for plain fields."""
    text = annotation if isinstance(annotation, str) else repr(annotation)
    if text.startswith(("InitVar", "KW_ONLY", "dataclasses.")):
        raise TypeError(f"gate.structs has no {text}: see its docstring for what it has")
    return text.startswith(("ClassVar", "typing.ClassVar", "t.ClassVar"))


def _own_fields(cls: type) -> list[Field]:
    """The fields the class body declares; the class attribute keeps a plain default and
    goes when the field has none (as dataclasses leaves it)."""
    annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 - no inspect
    for name, value in cls.__dict__.items():
        if isinstance(value, Field) and name not in annotations:
            raise TypeError(f"{name!r} is a field but has no type annotation")
    found = []
    for name, annotation in annotations.items():
        if _is_class_var(annotation):
            continue
        value = cls.__dict__.get(name, MISSING)
        made = value if isinstance(value, Field) else Field(value, MISSING, True)
        made.name = name
        if type(made.default).__hash__ is None:  # list, dict, set: shared by all instances
            raise ValueError(
                f"mutable default {type(made.default)} for field {name} is not allowed:"
                " use default_factory"
            )
        if isinstance(value, Field):
            if made.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, made.default)
        found.append(made)
    return found


def _all_fields(cls: type, frozen: bool) -> tuple[Field, ...]:
    """The inherited fields (from record bases, in MRO order) then the class's own; a
    required field may not follow one with a default."""
    merged: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        params = base.__dict__.get("__record_frozen__")
        if params is None:
            continue
        if params != frozen:
            raise TypeError(
                "cannot inherit frozen dataclass from a non-frozen one"
                if frozen
                else "cannot inherit non-frozen dataclass from a frozen one"
            )
        merged.update((f.name, f) for f in base.__dict__["__record_fields__"])
    merged.update((f.name, f) for f in _own_fields(cls))
    defaulted = False
    for f in merged.values():
        if f.required and defaulted:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        defaulted = defaulted or not f.required
    return tuple(merged.values())


def _build(cls: type[T], frozen: bool) -> type[T]:
    """Give ``cls`` the record's methods, keeping every one its body defines."""
    found = _all_fields(cls, frozen)
    names = tuple(f.name for f in found)
    own = cls.__dict__
    methods: dict[str, object] = {
        "__init__": _lazy_init(cls, found, frozen),
        "__repr__": _repr(tuple(f.name for f in found if f.repr)),
        "__eq__": _eq(_key(names)),
        "__match_args__": names,
    }
    for name, method in methods.items():
        if name not in own:
            setattr(cls, name, method)
    _set_hash(cls, _key(names), frozen)
    if frozen:
        for name, method in (("__setattr__", _frozen_setattr), ("__delattr__", _frozen_delattr)):
            if name in own:
                raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
            setattr(cls, name, method(cls, frozenset(names)))
    cls.__record_fields__ = found  # type: ignore[attr-defined]
    cls.__record_frozen__ = frozen  # type: ignore[attr-defined]
    return cls


def _set_hash(cls: type, key: Callable[[object], tuple[object, ...]], frozen: bool) -> None:
    """dataclasses' rule for ``eq=True``: a ``__hash__`` the body defines stays; otherwise
    a frozen record hashes its fields and a mutable one is unhashable."""
    body_hash = cls.__dict__.get("__hash__", MISSING)
    explicit = not (body_hash is MISSING or (body_hash is None and "__eq__" in cls.__dict__))
    if explicit:
        return
    cls.__hash__ = _hash(key) if frozen else None  # type: ignore[assignment]


def _key(names: tuple[str, ...]) -> Callable[[object], tuple[object, ...]]:
    """The tuple of the fields' values, at C speed (attrgetter of one name is no tuple)."""
    if len(names) > 1:
        return attrgetter(*names)
    if not names:
        return lambda obj: ()
    one = attrgetter(names[0])
    return lambda obj: (one(obj),)


def _repr(names: tuple[str, ...]) -> Callable[[object], str]:
    def __repr__(self: object) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({shown})"

    return __repr__


def _eq(key: Callable[[object], tuple[object, ...]]) -> Callable[[object, object], object]:
    def __eq__(self: object, other: object) -> object:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    return __eq__


def _hash(key: Callable[[object], tuple[object, ...]]) -> Callable[[object], int]:
    def __hash__(self: object) -> int:
        return hash(key(self))

    return __hash__


def _frozen_setattr(cls: type, names: frozenset[str]) -> Callable[[object, str, object], None]:
    def __setattr__(self: Any, name: str, value: object) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)  # type: ignore[arg-type] # cls is a type

    return __setattr__


def _frozen_delattr(cls: type, names: frozenset[str]) -> Callable[[object, str], None]:
    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)  # type: ignore[arg-type] # cls is a type

    return __delattr__


COMPILE_AFTER = 16
"""Instances a record builds through the generic ``__init__`` before it compiles its own:
compiling costs 0.1 to 2 ms a class (most records of a run are built once or twice), the
generic one some microseconds an instance more than the compiled one."""


def _lazy_init(cls: type, found: tuple[Field, ...], frozen: bool) -> Callable[..., None]:
    """A stand-in ``__init__``: the generic one for the first ``COMPILE_AFTER`` instances
    (as the class is built), then the compiled one, put on the class in its own place. A
    call that does not fit the fields goes to the compiled one, which raises as Python
    does (missing, unexpected or repeated arguments)."""
    limit, built = COMPILE_AFTER, 0
    setter = object.__setattr__ if frozen else setattr

    def __init__(*args: Any, **kwargs: Any) -> None:  # no "self": a field may take the name
        nonlocal built
        built += 1
        values = _bound(found, args[1:], kwargs) if built <= limit else None
        if values is None:
            real = _compile_init(cls, found, frozen)
            cls.__init__ = real  # type: ignore[misc]
            real(*args, **kwargs)
            return
        self = args[0]
        for f, value in zip(found, values, strict=True):
            setter(self, f.name, f.default_factory() if value is _HAS_FACTORY else value)
        if hasattr(cls, "__post_init__"):
            self.__post_init__()

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _bound(found: tuple[Field, ...], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The value of each field for a call, in order (``_HAS_FACTORY`` where its factory is
    to be called), or None when the call does not fit: nothing is called or set before
    the whole call is known to fit."""
    if len(args) > len(found):
        return None
    values, taken = list(args), 0
    for f in found[len(args) :]:
        if f.name in kwargs:
            values.append(kwargs[f.name])
            taken += 1
        elif f.default is not MISSING:
            values.append(f.default)
        elif f.default_factory is not MISSING:
            values.append(_HAS_FACTORY)
        else:
            return None
    return values if taken == len(kwargs) else None  # else unknown or repeated names


def _compile_init(cls: type, found: tuple[Field, ...], frozen: bool) -> Callable[..., None]:
    """The ``__init__`` dataclasses would generate: positional-or-keyword parameters,
    defaults, factories called per instance, ``object.__setattr__`` when frozen, then
    ``__post_init__`` if the class has one."""
    me = "__record_self__" if "self" in (f.name for f in found) else "self"
    scope: dict[str, Any] = {"_record_setattr": object.__setattr__, "_has_factory": _HAS_FACTORY}
    params, body = [me], []
    for f in found:
        value = f.name
        if f.default is not MISSING:
            scope[f"_record_default_{f.name}"] = f.default
            params.append(f"{f.name}=_record_default_{f.name}")
        elif f.default_factory is not MISSING:
            scope[f"_record_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_has_factory")
            value = f"_record_factory_{f.name}() if {f.name} is _has_factory else {f.name}"
        else:
            params.append(f.name)
        if frozen:
            body.append(f"_record_setattr({me}, {f.name!r}, {value})")
        else:
            body.append(f"{me}.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append(f"{me}.__post_init__()")
    lines = "\n".join(f"    {line}" for line in body or ["pass"])
    source = f"def __init__({', '.join(params)}):\n{lines}\n"
    exec(compile(source, f"<record {cls.__qualname__}>", "exec"), scope)  # noqa: S102
    made: Callable[..., None] = scope["__init__"]
    made.__qualname__ = f"{cls.__qualname__}.__init__"
    return made


_NAMED_TUPLE_OWN = frozenset(
    {"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults"}
    | {"_make", "_replace", "_asdict", "_source"}
)
"""What a named tuple's body may not define (``typing`` refuses the same)."""


class _NamedTupleMeta(type):
    """Builds ``class Row(NamedTuple)`` as ``typing.NamedTupleMeta`` does in Python 3.11:
    ``collections.namedtuple`` of the annotated fields, then the body's other attributes."""

    def __new__(cls, typename: str, bases: tuple[type, ...], ns: dict[str, Any]) -> Any:
        if ns.get("_root"):
            return super().__new__(cls, typename, bases, ns)
        if bases != (NamedTuple,):
            raise TypeError("can only inherit from a NamedTuple type and Generic")
        annotations = ns.get("__annotations__", {})
        defaults = [ns[name] for name in _defaulted(annotations, ns)]
        made = _namedtuple(typename, list(annotations), defaults=defaults, module=ns["__module__"])
        made.__annotations__ = made.__new__.__annotations__ = dict(annotations)
        for key, value in ns.items():
            if key in _NAMED_TUPLE_OWN:
                raise AttributeError("Cannot overwrite NamedTuple attribute " + key)
            if key not in {"__module__", "__name__", "__annotations__"} and key not in annotations:
                setattr(made, key, value)
        return made


_namedtuple: Callable[..., Any] = namedtuple
"""``collections.namedtuple`` called with computed fields (the type checker reads literal
ones only)."""


def _defaulted(annotations: dict[str, Any], ns: dict[str, Any]) -> list[str]:
    """The fields with a default, which must all come after those without one."""
    defaulted: list[str] = []
    for name in annotations:
        if name in ns:
            defaulted.append(name)
        elif defaulted:
            plural = "s" if len(defaulted) > 1 else ""
            raise TypeError(
                f"Non-default namedtuple field {name} cannot follow default"
                f" field{plural} {', '.join(defaulted)}"
            )
    return defaulted


if not TYPE_CHECKING:

    class NamedTuple(metaclass=_NamedTupleMeta):
        """The base of a named tuple class (the class built is a tuple, not one of these)."""

        _root = True
