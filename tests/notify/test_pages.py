"""我的消息, the header's unread count, and the demo SMS gateway's page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from notify_support import settings_env
from tongban.access import service as access_service
from tongban.db import transaction
from tongban.notify import jobs, service
from web.webtools import csrf, login

PARAMS = {"case_no": "640425-20261203-000001", "title": "最低生活保障申请"}
HTML = {"Accept": "text/html"}


def queue_for(db: str, username: str, key: str) -> None:
    with transaction(db) as s:
        actor = access_service.actor_by_username(s, username)
        assert actor is not None
        service.notify(
            s, kind="case_accepted", params=PARAMS, dedupe_key=key, user_id=actor.user_id
        )


def badge(html: str) -> str | None:
    found = re.search(r'href="/my/messages">[^<]*<span class="badge">(\d+)', html)
    return found.group(1) if found else None


def test_my_messages_page_marks_unread_and_reads_by_form(client: TestClient, demo_db: str) -> None:
    queue_for(demo_db, "applicant_ma", "page:1")
    queue_for(demo_db, "applicant_ma", "page:2")
    queue_for(demo_db, "applicant_li", "page:3")
    login(client, "applicant_ma")
    page = client.get("/my/messages")
    assert page.status_code == 200
    assert (
        page.text.count("办件已受理") == 2 and page.text.count('class="badge clock-warning"') == 2
    )
    assert badge(page.text) == "2"
    ids = [int(i) for i in re.findall(r'action="/my/messages/(\d+)/read"', page.text)]
    assert len(ids) == 2 and ids[0] > ids[1]  # newest first
    token = csrf(client, "/my/messages")
    assert client.post(f"/my/messages/{ids[0]}/read", follow_redirects=False).status_code == 403
    done = client.post(
        f"/my/messages/{ids[0]}/read", data={"csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/my/messages"
    page = client.get("/my/messages")
    assert badge(page.text) == "1" and page.text.count('class="badge clock-warning"') == 1
    client.post("/my/messages/read-all", data={"csrf_token": token})
    page = client.get("/my/messages")
    assert badge(page.text) is None and "已读" in page.text
    assert badge(client.get("/").text) is None


def test_someone_elses_message_stays_unread(client: TestClient, demo_db: str) -> None:
    queue_for(demo_db, "applicant_li", "page:4")
    login(client, "applicant_li")
    theirs = int(
        re.findall(r'action="/my/messages/(\d+)/read"', client.get("/my/messages").text)[0]
    )
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    login(client, "applicant_ma")
    token = csrf(client, "/my/messages")
    answer = client.post(f"/my/messages/{theirs}/read", data={"csrf_token": token})
    assert answer.status_code == 200 and "消息不存在" in answer.text
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    login(client, "applicant_li")
    assert badge(client.get("/").text) == "1"


def test_staff_have_messages_too_and_strangers_are_sent_to_login(
    client: TestClient, demo_db: str
) -> None:
    anonymous = client.get("/my/messages", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    queue_for(demo_db, "reviewer_mzj", "page:5")
    login(client, "reviewer_mzj")
    page = client.get("/my/messages")
    assert page.status_code == 200 and badge(page.text) == "1"
    assert "/workbench/cases/640425-20261203-000001" in page.text
    english = client.get("/my/messages?lang=en")
    assert english.status_code == 200 and 'lang="en"' in english.text


def test_the_demo_sms_page_exists_only_with_the_demo_gateway(
    client: TestClient, demo_db: str
) -> None:
    assert client.get("/demo/sms").status_code == 404
    with settings_env(sms_gateway="demo"):
        empty = client.get("/demo/sms")
        assert empty.status_code == 200 and "还没有短信" in empty.text
        with transaction(demo_db) as s:
            service.notify(
                s,
                kind="verification_code",
                params={"code": "482913", "purpose": "signup", "minutes": 10},
                dedupe_key="signup:1",
                phone="13987654321",
            )
        assert jobs.deliver_due(demo_db).sent == 1
        page = client.get("/demo/sms")  # no login: a visitor signing up has no account yet
    assert page.status_code == 200
    assert "482913" in page.text and "139****4321" in page.text and "13987654321" not in page.text
    assert "生产环境绝不能启用" in page.text
