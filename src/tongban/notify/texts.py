"""Message texts from templates.toml, filled in: Chinese for e-mail and SMS, any locale
for the 我的消息 page (through the web's gettext)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tongban.notify import rules
from tongban.privacy.scanner import mask_text

TEMPLATES_FILE = Path(__file__).with_name("templates.toml")
Gettext = Callable[..., str]
# Parameter (a code) → the label table that names it, and the label's parameter name.
LABELS = {"purpose": "purpose", "method": "delivery", "deadline": "deadline"}


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    text: str
    channels: tuple[str, ...]
    lookup: str
    expires: bool


@dataclass(frozen=True)
class Templates:
    kinds: dict[str, Kind]
    lookup: dict[str, str]
    labels: dict[str, dict[str, str]]
    sms_prefix: str
    email_footer: str

    def kind(self, name: str) -> Kind:
        try:
            return self.kinds[name]
        except KeyError:
            raise ValueError(f"unknown notification kind: {name}") from None

    def strings(self) -> list[str]:
        """Every user-facing string, for translation."""
        found = [self.email_footer]
        for kind in self.kinds.values():
            found += [kind.title, kind.text]
        found += self.lookup.values()
        for table in self.labels.values():
            found += table.values()
        return found


@cache
def templates(path: Path = TEMPLATES_FILE) -> Templates:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    kinds = {
        name: Kind(
            name=name,
            title=spec["title"],
            text=spec["text"],
            channels=tuple(spec["channels"]),
            lookup=spec.get("lookup", ""),
            expires=bool(spec.get("expires", False)),
        )
        for name, spec in data["kinds"].items()
    }
    for kind in kinds.values():
        unknown = set(kind.channels) - set(rules.CHANNELS)
        if unknown:
            raise ValueError(f"{kind.name}: unknown channels {sorted(unknown)}")
    return Templates(
        kinds=kinds,
        lookup=dict(data["lookup"]),
        labels={name: dict(table) for name, table in data["labels"].items()},
        sms_prefix=data["sms_prefix"],
        email_footer=data["email_footer"],
    )


def clean_params(params: Mapping[str, Any]) -> dict[str, str | int]:
    """Bounded, clean parameters with any personal number masked (defence in depth)."""
    cleaned: dict[str, str | int] = {}
    for key, value in params.items():
        name = rules.clean(key, 40)
        if isinstance(value, bool):
            cleaned[name] = int(value)
        elif isinstance(value, int):
            cleaned[name] = max(min(value, 2**31 - 1), -(2**31))
        else:
            cleaned[name] = mask_text(rules.clean(value))
    return cleaned


def _identity(message: str, **params: Any) -> str:
    return message % params if params else message


def _fields(params: Mapping[str, Any], gettext: Gettext) -> dict[str, Any]:
    """Parameters plus their translated labels; a missing field renders as "—"."""
    table = templates().labels
    fields: dict[str, Any] = dict(params)
    for param, label_table in LABELS.items():
        code = str(params.get(param, ""))
        label = table[label_table].get(code)
        fields[f"{param}_label"] = gettext(label) if label else code
    return _Defaulted(fields)


class _Defaulted(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "—"


def _fill(gettext: Gettext, message: str, fields: Mapping[str, Any]) -> str:
    translated = gettext(message)
    return translated % fields


@dataclass(frozen=True)
class Rendered:
    title: str
    text: str  # the message and how to follow up


def render(
    kind: str,
    params: Mapping[str, Any],
    *,
    account: bool,
    gettext: Gettext | None = None,
) -> Rendered:
    """The message's title and text. ``account``: the recipient signs in (我的办件), else the
    text says how to look the case up with its query code."""
    say = gettext or _identity
    spec = templates().kind(kind)
    fields = _fields(params, say)
    text = _fill(say, spec.text, fields)
    if spec.lookup:
        variant = spec.lookup
        if variant != "workbench":
            variant += "_account" if account else "_code"
        text = f"{text}{_fill(say, templates().lookup[variant], fields)}"
    return Rendered(title=say(spec.title), text=mask_text(text))


def email_body(rendered: Rendered) -> str:
    return f"{rendered.text}\n\n{templates().email_footer}\n"


def sms_text(rendered: Rendered) -> str:
    return f"{templates().sms_prefix}{rendered.text}"
