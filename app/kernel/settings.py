"""Typed, validated settings declared by the app and by each monitor.

The same declarations drive config-file validation, ``deskwatch config
check``, and the generated settings dialog.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.kernel.i18n import Text

#: TOML integers are 64-bit signed; Python's parser reads any length, the spec does not.
INT_LIMIT = 2**63

MSG_NOT_FINITE = Text(
    "{value} is not a finite number; the previous value stays in force",
    "{value} 不是有限数值,继续使用原来的值",
)
MSG_TOO_LARGE = Text(
    "{value} is too large for a whole number; the previous value stays in force",
    "{value} 超出整数范围,继续使用原来的值",
)


class InvalidSetting(ValueError):
    """A value refused with a reason worth telling the person who edits the file.

    ``str()`` gives the reason in both languages, because ``config check`` and
    the log are read by a clerk and by IT alike.
    """

    def __init__(self, reason: Text) -> None:
        super().__init__(f"{reason.en} ({reason.zh})")
        self.reason = reason


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:12]}…({len(text)} characters)"


def finite_number(value: int | float) -> float:
    """``value`` as a float; :class:`InvalidSetting` for nan, ±inf and ints too large for a float.

    NaN slips through every range check (all comparisons are false): an
    ``interval = nan`` would busy-loop and a NaN threshold would never alarm.
    """
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InvalidSetting(MSG_NOT_FINITE.format(value=_shown(value)))
    return number


#: Python types a setting may hold; ``list`` means a list of strings.
SettingType = type[bool] | type[int] | type[float] | type[str] | type[list[str]]


def refusal(value: Any, error: ValueError) -> str:
    """What to tell the user about a refused ``value``: the reason if there is one."""
    if isinstance(error, InvalidSetting):
        return str(error)
    return f"invalid value {_shown(value) if isinstance(value, int) else repr(value)}"


@dataclass(frozen=True)
class Setting:
    """One configurable value: key, type, default, allowed range or choices."""

    key: str
    default: Any
    label: Text
    type: Any = None  # inferred from ``default`` when omitted
    minimum: float | None = None
    maximum: float | None = None
    choices: Sequence[str] | None = None
    help: Text | None = None
    #: For a list of tables (``[[section.key]]`` in TOML): the keys each table may hold.
    #: Tables keep only the keys given; the owner applies defaults (so presets can
    #: fill what the user left out).
    fields: Sequence[Setting] | None = None
    #: For a list of tables: checks one valid table as a whole (keys that only make
    #: sense together) and returns what is wrong with it, or ``None``.
    check_table: Callable[[Mapping[str, Any]], str | None] | None = None

    @property
    def kind(self) -> type:
        """The declared (or inferred) Python type."""
        kind: type = type(self.default) if self.type is None else self.type
        return kind

    def allowed(self, language: str = "en") -> str:
        """What values are allowed, in ``language`` (English, as config-file errors say it, by default)."""
        kind = self.kind
        if self.choices is not None:
            text = Text("one of {choices}", "以下之一：{choices}").format(
                choices=", ".join(repr(c) for c in self.choices)
            )
        elif kind is bool:
            text = Text("true or false", "true 或 false")
        elif kind is list and self.fields is not None:
            text = Text(
                "a list of tables ([[…{key}]]) with keys {keys}", "表格列表（[[…{key}]]），键为 {keys}"
            ).format(key=self.key, keys=", ".join(f.key for f in self.fields))
        elif kind is list:
            text = Text("a list of strings", "字符串列表")
        else:
            text = self._allowed_number(kind)
        return text(language)

    def _allowed_number(self, kind: type) -> Text:
        name = {
            int: Text("a whole number", "整数"),
            float: Text("a number", "数字"),
            str: Text("a string", "字符串"),
        }.get(kind, Text.same(str(kind)))
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return Text("{name} from {low:g} to {high:g}", "{low:g} 到 {high:g} 之间的{name}").format(
                name=name, low=low, high=high
            )
        if low is not None:
            return Text("{name} ≥ {low:g}", "不小于 {low:g} 的{name}").format(name=name, low=low)
        if high is not None:
            return Text("{name} ≤ {high:g}", "不大于 {high:g} 的{name}").format(name=name, high=high)
        return name

    def coerce(self, value: Any) -> Any:
        """Return ``value`` converted to this setting's type or raise ``ValueError``."""
        kind = self.kind
        if self.fields is not None:
            tables, problems = self.coerce_tables(value)
            if problems:
                raise ValueError
            return tables
        if kind is bool:
            if not isinstance(value, bool):
                raise ValueError
            result: Any = value
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError
            if not -INT_LIMIT <= value < INT_LIMIT:
                raise InvalidSetting(MSG_TOO_LARGE.format(value=_shown(value)))
            result = value
        elif kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError
            result = finite_number(value)
        elif kind is str:
            if not isinstance(value, str):
                raise ValueError
            result = value
        elif kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError
            result = list(value)
        else:  # pragma: no cover - declaration error, not user error
            raise TypeError(f"unsupported setting type {kind!r}")
        if self.choices is not None and result not in self.choices:
            raise ValueError
        if isinstance(result, int | float) and not isinstance(result, bool):
            if self.minimum is not None and result < self.minimum:
                raise ValueError
            if self.maximum is not None and result > self.maximum:
                raise ValueError
        return result

    def coerce_tables(self, value: Any) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
        """Validate a list of tables against :attr:`fields`.

        Returns the tables (each holding only its valid keys) and the problems
        found, each as ``(key suffix such as "[2].port", message, allowed)``;
        a bad key is dropped so that its default stays in force.
        """
        declared = {f.key: f for f in self.fields or ()}
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            return [], [("", f"invalid value {value!r}", self.allowed())]
        tables: list[dict[str, Any]] = []
        problems: list[tuple[str, str, str]] = []
        for number, item in enumerate(value, start=1):
            table: dict[str, Any] = {}
            for key, raw in item.items():
                field = declared.get(key)
                if field is None:
                    problems.append(
                        (f"[{number}].{key}", "unknown key", "one of " + ", ".join(sorted(declared)))
                    )
                    continue
                try:
                    table[key] = field.coerce(raw)
                except ValueError as exc:
                    problems.append((f"[{number}].{key}", refusal(raw, exc), field.allowed()))
            problem = self.check_table(table) if self.check_table is not None else None
            if problem:
                problems.append((f"[{number}]", problem, ""))
            tables.append(table)
        return tables, problems
