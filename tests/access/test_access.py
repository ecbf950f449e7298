"""Users, passwords, tokens and scopes."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tongban.access import service
from tongban.access.rules import Role, region_in_subtree
from tongban.errors import DomainError


def test_region_subtree() -> None:
    assert region_in_subtree("640425", "640000")
    assert region_in_subtree("640425", "640400")
    assert region_in_subtree("640425", "640425")
    assert not region_in_subtree("640402", "640425")
    assert not region_in_subtree("650100", "640000")


def test_create_and_authenticate(demo_session: Session) -> None:
    user = service.create_user(
        demo_session, username="w1", password="Window2026", role="clerk", display_name="窗口一"
    )
    assert user.password_hash.startswith("$argon2")
    assert user.region_code == "640425"  # defaults to the center
    actor = service.authenticate(demo_session, username="w1", password="Window2026")
    assert actor.role == Role.CLERK
    token = service.issue_token(demo_session, actor)
    assert service.actor_from_token(demo_session, token) == actor
    with pytest.raises(DomainError) as caught:
        service.authenticate(demo_session, username="w1", password="wrong-pass1")
    assert caught.value.code == "bad_credentials" and caught.value.status == 401


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"password": "short1"}, "weak_password"),
        ({"password": "onlyletters"}, "weak_password"),
        ({"role": "superuser"}, "unknown_role"),
        ({"role": "reviewer"}, "department_required"),
        ({"region_code": "999999"}, "region_not_found"),
        ({"department_code": "91640425MA7XK2QJ3A"}, "department_not_found"),
        ({"role": "applicant", "id_number": "110105194912310021"}, "invalid_id_number"),
    ],
)
def test_bad_users_are_refused(demo_session: Session, kwargs: dict[str, str], code: str) -> None:
    args = {"username": "x1", "password": "Good2026pass", "role": "clerk", **kwargs}
    with pytest.raises(DomainError) as caught:
        service.create_user(demo_session, **args)  # type: ignore[arg-type]
    assert caught.value.code == code


def test_username_is_unique(demo_session: Session) -> None:
    with pytest.raises(DomainError) as caught:
        service.create_user(demo_session, username="admin", password="Good2026pass", role="admin")
    assert caught.value.code == "username_taken"
