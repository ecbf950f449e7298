"""Chinese search over the demo catalog, through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.catalog import search, service

# query → item names that must be among the top results (first one must be first)
EXPECTED_FIRST = {
    "异地 医保": "异地就医备案",
    "低保": "最低生活保障申请",
    "社保卡": "社会保障卡申领",
    "上户口": "户籍登记（出生登记）",
    "公积金贷款": "住房公积金贷款",
    "房产证": "不动产登记（转移登记）",
}
EXPECTED_TOP3 = {
    "营业执照": {"个体工商户登记", "企业设立登记"},
    "开公司": {"企业设立登记"},
}


def names(session: Session, q: str, size: int = 20) -> list[str]:
    return [i.name for i in service.search_items(session, q=q, size=size).items]


def test_everyday_queries_find_the_right_items(demo_session: Session) -> None:
    for query, first in EXPECTED_FIRST.items():
        assert names(demo_session, query)[:1] == [first], query
    for query, wanted in EXPECTED_TOP3.items():
        assert wanted <= set(names(demo_session, query)[:3]), query


def test_bundles_are_found_by_everyday_words(demo_session: Session) -> None:
    found = service.search_bundles(demo_session, q="开公司")
    assert [b.name for b in found][:1] == ["企业开办一件事"]
    assert [b.code for b in service.search_bundles(demo_session, q="生孩子")][:1] == ["chusheng"]
    assert [b.code for b in service.search_bundles(demo_session, q="二手房 过户")][:1] == [
        "ershoufang"
    ]


def test_ranking_is_by_score_and_pages_are_consistent(demo_session: Session) -> None:
    full = service.search_items(demo_session, q="医保", size=100)
    scores = [i.score for i in full.items]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert full.total == len(full.items) >= 3
    second = service.search_items(demo_session, q="医保", page=2, size=2)
    assert second.total == full.total
    assert [i.code for i in second.items] == [i.code for i in full.items[2:4]]


def test_no_hits_is_an_empty_page(demo_session: Session) -> None:
    page = service.search_items(demo_session, q="火星移民签证")
    assert (page.total, page.items) == (0, [])
    assert service.search_bundles(demo_session, q="火星移民签证") == []


def test_name_outranks_a_mention_in_the_guide(demo_session: Session) -> None:
    # 营业执照 appears in many guides and materials; the item whose result is the licence wins
    top = service.search_items(demo_session, q="食品经营许可").items[0]
    assert top.name == "食品经营许可"


def test_synonyms_file_parses() -> None:
    table = search.load_synonyms()
    assert table["开公司"] == ("企业开办", "设立登记")
    assert "最低生活保障" in table["低保"]
    assert "社会保障卡" in table["社保卡"]
    assert all(key and all(values) for key, values in table.items())


def test_query_terms_expand_synonyms_with_a_lower_factor() -> None:
    terms = {t.token: t.factor for t in search.query_terms("我想开公司")}
    assert terms["开公司"] == 1.0
    assert terms["企业开办"] == search.SYNONYM_FACTOR
    assert "我" not in terms and "想" not in terms


def test_tokens_keep_domain_words_whole_and_drop_noise() -> None:
    words = search.tokens("异地就医备案（跨省）")
    assert {"异地", "就医", "异地就医", "备案", "跨省"} <= words
    assert all(len(w) >= 2 for w in words)
    assert search.tokens("  ") == set()
