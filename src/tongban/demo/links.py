"""The demo applicants' enterprise and delegation: made through the real services.

李建军 is the legal representative of the fictional 彭阳县建军示范商贸有限公司 in the
enterprise register: his link is confirmed through the exchange like anyone's. He has
authorized 马晓燕 (委托) to apply for him for 城乡居民养老保险参保登记 and 最低生活保障,
for a year. Idempotent: nothing is added twice.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from tongban.access import delegations, enterprises
from tongban.access import service as access_service
from tongban.demo.legacy_enterprise import JIANJUN_TRADING
from tongban.errors import NotFound
from tongban.kit.clock import now

DELEGATED_ITEMS = [
    "11640425MB00005TBY201003200100001",  # 城乡居民养老保险参保登记
    "11640425MB00010TBR051008000100001",  # 最低生活保障申请
]
AGENT_PHONE = "13995400001"  # 马晓燕 (fictional number, users.json)


def load_demo_links(session: Session) -> None:
    li = access_service.actor_by_username(session, "applicant_li")
    if li is None:
        raise NotFound("demo_user_missing", "缺少演示用户 applicant_li", "Demo user missing")
    if not enterprises.linked(session, actor=li):
        enterprises.link(
            session,
            actor=li,
            credit_code=JIANJUN_TRADING.credit_code,
            capacity="legal_representative",
        )
    if not any(d.active for d in delegations.given(session, actor=li)):
        delegations.give(
            session,
            principal=li,
            agent_phone=AGENT_PHONE,
            item_codes=DELEGATED_ITEMS,
            valid_until=now() + timedelta(days=365),
            note="演示：委托马晓燕代办",
        )
