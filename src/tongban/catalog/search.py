"""Chinese search: segmentation, synonyms and ranking, the same on every database.

Texts are segmented in the application with jieba and the words are stored in
``search_tokens`` with a field weight; a query is segmented the same way,
expanded with everyday-word synonyms (synonyms.txt) and ranked here in Python.
SQLite's trigram tokenizer cannot match two-character words such as 低保, and
PostgreSQL has no Chinese parser by default — so the database only looks words up.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba

SYNONYMS_FILE = Path(__file__).with_name("synonyms.txt")

# Field weights: a word in the name says more about an item than one in its guide.
WEIGHT_NAME = 10.0
WEIGHT_ALIAS = 6.0
WEIGHT_RESULT = 4.0
WEIGHT_TEXT = 1.0
# A synonym's expansion counts a little less than the words the user typed.
SYNONYM_FACTOR = 0.9
MAX_TOKEN_LENGTH = 64

_STOPWORDS = frozenset(
    {"的", "了", "和", "与", "及", "或", "在", "是", "我", "要", "想", "怎么", "如何"}
    | {"哪里", "什么", "需要", "可以", "办", "一个"}
)
_WORD = re.compile(r"\w", re.UNICODE)

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_known_words: set[str] = set()


@dataclass(frozen=True)
class Term:
    token: str
    factor: float


def _get_tokenizer() -> jieba.Tokenizer:
    """The shared tokenizer, built on first use (about half a second)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for key, values in load_synonyms().items():
                    for word in (key, *values):
                        _add(tokenizer, word)
                _tokenizer = tokenizer
    return _tokenizer


def _add(tokenizer: jieba.Tokenizer, word: str) -> None:
    word = word.strip()
    if len(word) >= 2 and word not in _known_words:
        # A high frequency keeps the domain word whole when jieba segments around it.
        tokenizer.add_word(word, freq=max(tokenizer.suggest_freq(word), 50_000))
        _known_words.add(word)


def add_words(words: Iterable[str]) -> None:
    """Teach the tokenizer domain words (item and bundle names, aliases) so they stay whole."""
    tokenizer = _get_tokenizer()
    with _lock:
        for word in words:
            for part in re.split(r"[\s()（）、，,/]+", word):
                _add(tokenizer, part)


@lru_cache(maxsize=1)
def load_synonyms(path: Path = SYNONYMS_FILE) -> dict[str, tuple[str, ...]]:
    """``everyday word = official term, official term`` per line; ``#`` starts a comment."""
    table: dict[str, list[str]] = defaultdict(list)
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or "=" not in line:
            continue
        left, right = line.split("=", 1)
        values = [v.strip() for v in re.split(r"[,，]", right) if v.strip()]
        for key in (k.strip() for k in left.split("/")):
            if key:
                table[key].extend(v for v in values if v not in table[key] and v != key)
    return {key: tuple(values) for key, values in table.items()}


def normalize(text: str) -> str:
    return " ".join(text.lower().split())


def tokens(text: str) -> set[str]:
    """The words of ``text``: search-mode and full-mode jieba cuts, without noise.

    Full mode adds every dictionary word inside a longer one (异地就医 in
    异地就医备案), so a document is found by the parts people type.
    """
    text = normalize(text)
    if not text:
        return set()
    tokenizer = _get_tokenizer()
    words = set(tokenizer.lcut_for_search(text)) | set(tokenizer.lcut(text, cut_all=True))
    return {
        w
        for w in (w.strip() for w in words)
        if len(w) >= 2 and len(w) <= MAX_TOKEN_LENGTH and _WORD.search(w) and w not in _STOPWORDS
    }


def weighted_tokens(fields: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Index entries for a document: each word scores each field's weight once."""
    result: dict[str, float] = defaultdict(float)
    for text, weight in fields:
        for token in tokens(text):
            result[token] += weight
    return dict(result)


def query_terms(query: str) -> list[Term]:
    """The typed words, plus the official terms for any everyday word in the query."""
    normalized = normalize(query)
    terms: dict[str, float] = {t: 1.0 for t in tokens(normalized)}
    compact = normalized.replace(" ", "")
    for key, values in load_synonyms().items():
        if key in compact or key in terms:
            for value in values:
                # Official terms are dictionary words, so the index holds them whole.
                terms.setdefault(normalize(value), SYNONYM_FACTOR)
    return [Term(t, f) for t, f in sorted(terms.items())]


def rank(
    terms: list[Term], hits: Iterable[tuple[int, str, float]], document_count: int
) -> list[tuple[int, float]]:
    """Score documents by Σ field weight × term factor × rarity × length; best first.

    Rarity (idf) keeps words found everywhere (登记, 申请) from drowning the
    specific ones; longer words are more specific than their parts.
    """
    factors = {t.token: t.factor for t in terms}
    by_token: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for doc_id, token, weight in hits:
        by_token[token].append((doc_id, weight))
    scores: dict[int, float] = defaultdict(float)
    total = max(document_count, 1)
    for token, postings in by_token.items():
        idf = math.log(1 + total / len(postings))
        length = min(len(token), 4) / 2
        for doc_id, weight in postings:
            scores[doc_id] += weight * factors.get(token, 0.0) * idf * length
    return sorted(
        ((d, round(s, 4)) for d, s in scores.items() if s > 0), key=lambda x: (-x[1], x[0])
    )
