"""gate.structs against dataclasses: the same class bodies, decorated by each, behave alike.

Each body below is built twice, once by ``dataclasses.dataclass`` and once by
``gate.structs.record`` (with the ``field`` of each); the properties drive both with the
same arguments and compare what comes out: the instance or the exception of ``__init__``
(defaults, factories, ``__post_init__``), repr, equality, hash, ``replace``, the frozen
errors, the fields and ``__match_args__``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar
from unittest import mock

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from gate import structs


def build(kind: str, frozen: bool) -> dict[str, type]:
    """The class bodies, decorated by dataclasses (``kind == "dc"``) or by records."""
    decorate: Any = (
        dataclasses.dataclass(frozen=frozen) if kind == "dc" else structs.record(frozen=frozen)
    )
    field: Any = dataclasses.field if kind == "dc" else structs.field

    @decorate
    class Plain:
        a: int
        b: str = "b"
        c: tuple[int, ...] = ()
        items: list[int] = field(default_factory=list)
        hidden: str = field(default="h", repr=False)
        secret: str = field(default="s", repr=False)
        shared: ClassVar[int] = 7

    @decorate
    class Checked:
        low: int
        high: int = 10

        def __post_init__(self) -> None:
            if self.low > self.high:
                raise ValueError(f"{self.low} > {self.high}")

    @decorate
    class Base:
        a: int
        b: int = 1

    @decorate
    class Child(Base):
        c: int = 2

    @decorate
    class Custom:
        a: int
        b: int = 0

        def __repr__(self) -> str:
            return "Custom!"

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Custom) and other.a == self.a

        def __hash__(self) -> int:
            return self.a

    @decorate
    class Empty:
        pass

    @decorate
    class Single:
        a: Any

    return {c.__name__: c for c in (Plain, Checked, Base, Child, Custom, Empty, Single)}


RECORDS = {"rec": structs.COMPILE_AFTER, "compiled": 0, "generic": 10**9}
"""The records under test, by when they compile ``__init__``: as the gate's do, at once
(every instance through the compiled one), never (every instance through the generic one)."""


def build_all() -> dict[tuple[str, bool], dict[str, type]]:
    made = {("dc", frozen): build("dc", frozen) for frozen in (True, False)}
    for kind, compile_after in RECORDS.items():
        with mock.patch.object(structs, "COMPILE_AFTER", compile_after):
            made |= {(kind, frozen): build("rec", frozen) for frozen in (True, False)}
    return made


KINDS = build_all()

values = st.one_of(
    st.integers(-3, 12),  # most draws fit every field
    st.integers(-3, 12),
    st.text(max_size=4),
    st.lists(st.integers(0, 3), max_size=3),
    st.tuples(st.integers(0, 3)),
    st.none(),
)
names = st.sampled_from(["a", "b", "c", "low", "high", "items", "zz"])
calls = st.tuples(
    st.lists(values, max_size=4), st.dictionaries(names, values, max_size=2) | st.just({})
)
"""Positional arguments and keyword arguments, valid or not."""


def outcome(call: Any) -> tuple[str, Any]:
    """What a call gives: ("ok", value) or ("raised", the exception's type and message)."""
    try:
        return "ok", call()
    except Exception as e:  # compared, not swallowed: both sides must raise alike
        return "raised", (type(e).__name__, str(e))


def shown(result: tuple[str, Any]) -> tuple[str, Any]:
    """An outcome as compared across the two kinds of class: an instance by its repr."""
    return (result[0], repr(result[1])) if result[0] == "ok" else result


def observed(obj: Any, other: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """Everything the properties compare about one instance (repr with the class name)."""
    return {
        "repr": repr(obj),
        "eq": outcome(lambda: obj == other),
        "other-type": (obj == 1, obj == mock.ANY),  # NotImplemented: the other side decides
        "hash": outcome(lambda: hash(obj)),
        "replace": outcome(lambda: repr(replace_of(obj)(obj, **changes))),
        "set": outcome(lambda: setattr(obj, "a", 5)),
        "set-new": outcome(lambda: setattr(obj, "new_name", 5)),
        "del": outcome(lambda: delattr(obj, "a")),
        "after": outcome(lambda: repr(obj)),
    }


def replace_of(obj: Any) -> Any:
    return structs.replace if hasattr(obj, "__record_fields__") else dataclasses.replace


@settings(max_examples=examples(150))
@given(
    name=st.sampled_from(["Plain", "Checked", "Base", "Child", "Custom", "Empty", "Single"]),
    frozen=st.booleans(),
    call=calls,
    other_call=calls,
    changes=st.dictionaries(st.sampled_from(["a", "b", "c", "low", "zz"]), values, max_size=2),
)
def test_records_behave_as_dataclasses(name, frozen, call, other_call, changes):
    made = {}
    for kind in ("dc", *RECORDS):
        cls = KINDS[kind, frozen][name]
        args, kwargs = call
        built = outcome(lambda cls=cls, args=args, kwargs=kwargs: cls(*args, **kwargs))
        other = outcome(lambda cls=cls: cls(*other_call[0], **other_call[1]))
        if built[0] == "ok" and other[0] == "ok":
            made[kind] = observed(built[1], other[1], changes)
        else:
            made[kind] = (shown(built), shown(other))
    for kind in RECORDS:
        assert made[kind] == made["dc"], kind


VALID = {
    "Plain": ((1, "x", (2,), ()), (1, "b", (), ())),
    "Checked": ((1, 2), (3,)),
    "Base": ((1,), (1, 2)),
    "Child": ((1, 2, 3), (1, 2, 3)),
    "Custom": ((1, 2), (1, 3)),
    "Empty": ((), ()),
    "Single": ((("t",),), (("t",),)),
}
"""Arguments each class takes: two instances, sometimes equal, hashable when frozen (Custom
defines its own hash)."""


@pytest.mark.parametrize("frozen", [True, False])
@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_instances_behave_as_dataclasses(name, frozen):
    one, two = VALID[name]
    seen = []
    for kind in ("dc", *RECORDS):
        cls = KINDS[kind, frozen][name]
        seen.append(observed(cls(*one), cls(*two), {}))
    assert seen[1:] == [seen[0]] * len(RECORDS)
    assert seen[0]["hash"][0] == ("ok" if frozen or name == "Custom" else "raised")


@pytest.mark.parametrize("frozen", [True, False])
def test_the_class_level_facts_match(frozen):
    for name in ("Plain", "Checked", "Child", "Custom", "Empty", "Single"):
        dc, rec = KINDS["dc", frozen][name], KINDS["rec", frozen][name]
        assert [f.name for f in structs.fields(rec)] == [f.name for f in dataclasses.fields(dc)]
        assert rec.__match_args__ == dc.__match_args__
        assert (rec.__hash__ is None) == (dc.__hash__ is None), name
        for attribute in ("b", "hidden", "items", "shared"):
            assert getattr(rec, attribute, "absent") == getattr(dc, attribute, "absent")


@pytest.mark.parametrize("kind", ["dc", *RECORDS])
def test_post_init_runs_on_every_path(kind):
    checked = KINDS[kind, True]["Checked"]
    with pytest.raises(ValueError, match="5 > 1"):
        checked(5, 1)
    with pytest.raises(ValueError, match="11 > 10"):
        checked(low=11)
    assert checked(1, high=5).high == 5


def test_a_mutable_records_own_setattr_sees_every_field_set():
    seen = []
    for kind in ("dc", *RECORDS):
        decorate: Any = dataclasses.dataclass if kind == "dc" else structs.record(frozen=False)
        with mock.patch.object(structs, "COMPILE_AFTER", RECORDS.get(kind, 0)):

            @decorate
            class Watched:
                a: int
                b: int = 2

                def __setattr__(self, name: str, value: object) -> None:
                    object.__setattr__(self, "log", [*getattr(self, "log", []), name])
                    object.__setattr__(self, name, value)

        seen.append(Watched(1).log)  # type: ignore[attr-defined]
    assert seen == [["a", "b"]] * len(seen)


def test_a_default_factory_runs_for_each_instance():
    plain = KINDS["rec", True]["Plain"]
    one, two = plain(1), plain(2)
    one.items.append(1)
    assert two.items == [] and one.items == [1]
    assert plain(3, items=[4]).items == [4]


def test_frozen_errors_are_attribute_errors():
    obj = KINDS["rec", True]["Plain"](1)
    with pytest.raises(structs.FrozenInstanceError, match="cannot assign to field 'a'"):
        obj.a = 2  # type: ignore[misc]
    with pytest.raises(AttributeError, match="cannot delete field 'b'"):
        del obj.b  # type: ignore[misc]
    assert obj.a == 1


@structs.record
class Point:
    x: int
    y: int = 0


def test_records_match_by_position():
    match Point(1, 2):
        case Point(x, y):
            assert (x, y) == (1, 2)
        case _:
            pytest.fail("no match")


def refusals(kind: str) -> list[Any]:
    """Class bodies dataclasses refuses, each as a function building it with ``kind``."""
    decorate: Any = dataclasses.dataclass if kind == "dc" else structs.record
    field: Any = dataclasses.field if kind == "dc" else structs.field

    def mutable_default() -> None:
        @decorate
        class Bad:
            items: list[int] = []  # noqa: RUF012 - the refusal under test

    def required_after_default() -> None:
        @decorate
        class Bad:
            a: int = 1
            b: int

    def unannotated_field() -> None:
        @decorate
        class Bad:
            a = field(default=1)

    def both_defaults() -> None:
        field(default=1, default_factory=list)

    def frozen_from_mutable() -> None:
        @decorate(frozen=False)
        class Base:
            a: int

        @decorate(frozen=True)
        class Bad(Base):
            b: int = 0

    def mutable_from_frozen() -> None:
        @decorate(frozen=True)
        class Base:
            a: int

        @decorate(frozen=False)
        class Bad(Base):
            b: int = 0

    def frozen_with_own_setattr() -> None:
        @decorate(frozen=True)
        class Bad:
            a: int

            def __setattr__(self, name: str, value: object) -> None:
                pass

    return [
        mutable_default,
        required_after_default,
        unannotated_field,
        both_defaults,
        frozen_from_mutable,
        mutable_from_frozen,
        frozen_with_own_setattr,
    ]


@pytest.mark.parametrize("index", range(len(refusals("dc"))))
def test_what_dataclasses_refuses_is_refused_alike(index):
    expected = outcome(refusals("dc")[index])
    assert expected[0] == "raised"
    assert outcome(refusals("rec")[index]) == expected


def test_init_is_compiled_after_the_first_instances():
    @structs.record
    class Lazy:
        a: int
        items: list[int] = structs.field(default_factory=list)

    stub = Lazy.__dict__["__init__"]
    for n in range(structs.COMPILE_AFTER):
        assert Lazy(n).a == n
    assert Lazy.__dict__["__init__"] is stub
    assert Lazy(1, [2]).items == [2]
    compiled = Lazy.__dict__["__init__"]
    assert compiled is not stub
    assert Lazy(2).a == 2 and Lazy.__dict__["__init__"] is compiled


def test_a_call_that_does_not_fit_is_refused_by_the_compiled_init():
    """The generic __init__ hands a wrong call to the compiled one, which words the error
    as Python does; no factory ran for the refused call."""
    made = []

    @structs.record
    class Lazy:
        a: int
        items: list[int] = structs.field(default_factory=lambda: made.append(1) or [])

    stub = Lazy.__dict__["__init__"]
    with pytest.raises(TypeError, match=r"Lazy.__init__\(\) missing 1 required positional"):
        Lazy()  # type: ignore[call-arg]
    assert Lazy.__dict__["__init__"] is not stub and made == []
    with pytest.raises(TypeError, match="got multiple values for argument 'a'"):
        Lazy(1, a=2)  # type: ignore[misc]


@pytest.mark.parametrize("annotation", ["InitVar[int]", "KW_ONLY", "dataclasses.InitVar[int]"])
def test_what_records_do_not_have_is_refused(annotation):
    body = type("Body", (), {"__annotations__": {"a": annotation}})
    with pytest.raises(TypeError, match=r"gate\.structs has no"):
        structs.record(body)


def test_a_field_named_self_is_allowed():
    @structs.record
    class Odd:
        self: int

    assert Odd(self=3).self == 3


def test_fields_and_replace_refuse_what_is_no_record():
    with pytest.raises(TypeError):
        structs.fields(object())
    with pytest.raises(TypeError):
        structs.replace(object())


def named(base: Any) -> type:
    """One named tuple body, on ``typing.NamedTuple`` or on ``gate.structs.NamedTuple``."""

    class Row(base):
        """A row."""

        a: int
        b: str = "b"
        c: tuple[int, ...] = ()

        @property
        def doubled(self) -> int:
            return self.a * 2

        def text(self) -> str:
            return f"{self.a}{self.b}"

    return Row


@settings(max_examples=examples(50))
@given(call=calls, changes=st.dictionaries(st.sampled_from("abz"), values, max_size=2))
def test_named_tuples_behave_as_typings(call, changes):
    import typing

    seen = []
    for base in (typing.NamedTuple, structs.NamedTuple):
        row = named(base)
        built = outcome(lambda row=row: row(*call[0], **call[1]))
        if built[0] == "raised":
            seen.append(built)
            continue
        obj = built[1]
        seen.append(
            (
                repr(obj),
                tuple(obj),
                obj._fields,
                obj._field_defaults,
                obj._asdict(),
                outcome(lambda obj=obj: repr(obj._replace(**changes))),
                outcome(lambda obj=obj: obj.doubled),
                outcome(lambda obj=obj: obj.text()),
                type(obj).__doc__,
                type(obj).__module__,
                type(obj).__match_args__,
                isinstance(obj, tuple),
            )
        )
    assert seen[0] == seen[1]


def test_named_tuples_refuse_what_typing_refuses():
    import typing

    def bodies(base: Any) -> list[Any]:
        def required_after_default() -> None:
            class Bad(base):
                a: int = 1
                b: int

        def own_replace() -> None:
            class Bad(base):
                a: int

                def _replace(self) -> None:
                    pass

        def another_base() -> None:
            class Bad(base, int):  # type: ignore[misc]
                a: int

        return [required_after_default, own_replace, another_base]

    for made, expected in zip(bodies(structs.NamedTuple), bodies(typing.NamedTuple), strict=True):
        assert outcome(made) == outcome(expected)
        assert outcome(expected)[0] == "raised"
