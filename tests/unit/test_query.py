"""Query strings as the SDKs send them (docs/wire.md#rule-1, #rule-2, #rule-4, #rule-16)."""

from __future__ import annotations

from twofold.api.query import parse_query
from twofold.schemas.users import GetUserBatchQuery


def test_array_forms() -> None:
    for items in ([("userIds", "a"), ("userIds", "b")], [("userIds[]", "a"), ("userIds[]", "b")],
                  [("userIds", "a,b")]):
        assert parse_query(GetUserBatchQuery, items).user_ids == ["a", "b"]


def test_repeated_or_bracketed_values_keep_their_commas() -> None:
    assert parse_query(GetUserBatchQuery, [("userIds[]", "a,b")]).user_ids == ["a,b"]
    assert parse_query(GetUserBatchQuery, [("userIds", "a,b"), ("userIds", "c")]).user_ids == ["a,b", "c"]


def test_booleans_and_empty_values() -> None:
    q = parse_query(GetUserBatchQuery, [("userIds", "a"), ("withCustomData", "True"), ("withIdentities", ""),
                                        ("userIdType", "")])
    assert (q.with_custom_data, q.with_identities, q.user_id_type) == (True, None, None)
