"""On whose behalf a citizen applies, as the apply form offers it: themselves (the verified
account), a linked enterprise, or a person who authorized them (委托) for these items."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tongban.access import accounts, delegations, enterprises
from tongban.access.rules import Actor, delegation_covers
from tongban.cases.schemas import ApplicantIn
from tongban.web.i18n import Gettext

SELF = "self"


@dataclass(frozen=True)
class Choice:
    value: str  # self | enterprise:<code> | delegation:<id>
    label: str
    hint: str


@dataclass(frozen=True)
class Offer:
    level: int
    level_label: str
    choices: list[Choice]


def offer(session: Session, actor: Actor, item_codes: list[str], gettext: Gettext) -> Offer:
    account = accounts.account_view(session, actor=actor)
    choices = []
    if account.id_number_masked:
        choices.append(
            Choice(
                SELF, gettext("本人：%(name)s", name=account.display_name), account.id_number_masked
            )
        )
    for link in enterprises.linked(session, actor=actor):
        choices.append(
            Choice(
                f"enterprise:{link.credit_code}",
                gettext("企业：%(name)s", name=link.name),
                gettext(
                    "%(code)s · 我是%(capacity)s",
                    code=link.credit_code,
                    capacity=gettext(link.capacity_label),
                ),
            )
        )
    for given in delegations.received(session, actor=actor):
        if given.active and delegation_covers(given.item_codes, item_codes):
            choices.append(
                Choice(
                    f"delegation:{given.id}",
                    gettext("受托代办：%(name)s", name=given.principal_name),
                    gettext(
                        "%(id)s · 委托有效期至 %(until)s",
                        id=given.principal_id_masked,
                        until=given.valid_until.strftime("%Y-%m-%d"),
                    ),
                )
            )
    return Offer(account.assurance_level, account.assurance_label, choices)


def applicant_for(
    session: Session, actor: Actor, choice: str, phone: str | None
) -> ApplicantIn | None:
    """The applicant block for the chosen option (None: not one that was offered)."""
    if choice == SELF:
        return ApplicantIn(kind="person", phone=phone)
    kind, _, ref = choice.partition(":")
    if kind == "enterprise" and ref:
        return ApplicantIn(kind="enterprise", credit_code=ref[:32], phone=phone)
    if kind == "delegation" and ref.isdigit():
        for given in delegations.received(session, actor=actor):
            if given.id == int(ref) and given.active:
                number = delegations.principal_number(session, given.id)
                return ApplicantIn(kind="person", id_number=number, phone=phone)
    return None
