"""How problems with a scenario are worded: the key path where one was found, a "did you
mean" for a name close to a known one, and pydantic's validation errors in plain words."""

from __future__ import annotations

import difflib
import tomllib
from typing import Any, get_args

from pydantic import BaseModel

from sim.scenario.schema import Scenario


class KeyProblem(ValueError):
    """A problem at a key path of a scenario, before the file it came from is known."""

    def __init__(self, key: str, problem: str):
        super().__init__(problem)
        self.key = key


def unknown(name: str, known: set[str], what: str) -> str:
    """'x' is not a known <what>, with the closest known name as a hint and the list."""
    return f"'{name}' is not a known {what}{did_you_mean(name, known)}; known: {', '.join(sorted(known))}"


def did_you_mean(name: str, known: Any) -> str:
    """A hint naming the known name closest to ``name``, if one is close (empty if none)."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def loc_to_key(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a key path: ``stages.physio.capacity_changes[0].from_date``."""
    parts: list[str] = []
    for x in loc:
        if isinstance(x, int):
            parts[-1:] = [f"{parts[-1]}[{x}]"] if parts else [f"[{x}]"]
        else:
            parts.append(str(x))
    return ".".join(parts)


_TYPE_NEEDED = {
    "float_type": "a valid number",
    "int_type": "a valid whole number",
    "bool_type": "true or false",
    "date_type": "a date (e.g. 2015-04-01, without quotes)",
}
"""Strict types' errors as plain words: the type a key needs."""


def _unquoted(text: str) -> bool:
    """Whether text would be a number, boolean or date if its quotes were taken off."""
    try:
        tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        return False
    return True


def pydantic_problem(err: dict[str, Any]) -> str:
    """One pydantic error as a short problem, with a 'did you mean' for an unknown key."""
    kind = err["type"]
    if kind == "extra_forbidden":
        name = str(err["loc"][-1])
        return f"unknown key '{name}'{did_you_mean(name, _known_fields(err['loc'][:-1]))}"
    if kind == "missing":
        return "required key is missing"
    if kind in _TYPE_NEEDED and "input" in err and isinstance(err["input"], bool | str):
        got = err["input"]
        what = ("true" if got else "false") if isinstance(got, bool) else f"the text {_short(repr(got))}"
        hint = " (write it without quotes)" if isinstance(got, str) and _unquoted(got) else ""
        return f"should be {_TYPE_NEEDED[kind]}, not {what}{hint}"
    msg = err["msg"].removeprefix("Value error, ")
    if "input" in err and kind != "value_error" and not isinstance(err["input"], dict):
        msg += f" (got {_short(repr(err['input']))})"
    return msg


def _short(text: str, limit: int = 80) -> str:
    """A value as an error message quotes it: its start and length when long."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _known_fields(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model at a location, for 'did you mean' hints."""
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            model = _dict_value_model(model)
            continue
        model = _model_of(field.annotation)
    return sorted(getattr(model, "model_fields", {}) or [])


def _dict_value_model(model: Any) -> Any:
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        m = _model_of(arg)
        if m is not None:
            return m
    return None
