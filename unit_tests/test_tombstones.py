"""The change and deletion bookkeeping of one parent's children (source_calendly/tombstones.py)."""

from __future__ import annotations

import pytest

from source_calendly.tombstones import (
    DELETED_AT,
    FINGERPRINT_LENGTH,
    KeyCodec,
    KeyShape,
    compare,
    decode_key,
    encode_key,
    fingerprint,
    short_hash,
    tombstone,
    tombstones,
)

API = "https://api.calendly.com"
AT = "2026-12-07T10:00:00.000000Z"


def host(n: int, **extra: object) -> dict:
    return {"uri": f"{API}/event_type_memberships/h{n}", "member": {"uri": f"{API}/users/u{n}"}, **extra}


def test_a_fingerprint_is_short_and_ignores_field_order_but_not_content() -> None:
    a = fingerprint({"x": 1, "y": [1, 2]})
    assert len(a) == FINGERPRINT_LENGTH
    assert a == fingerprint({"y": [1, 2], "x": 1})
    assert a != fingerprint({"x": 1, "y": [2, 1]})
    assert a != fingerprint({"x": 2, "y": [1, 2]})


def test_a_fingerprint_leaves_out_the_ignored_fields() -> None:
    assert fingerprint({"x": 1, "stamp": "a"}, ignore=["stamp"]) == fingerprint({"x": 1, "stamp": "b"}, ["stamp"])
    assert fingerprint({"x": 1, "stamp": "a"}) != fingerprint({"x": 1, "stamp": "b"})


def test_a_signal_hash_differs_when_the_signal_does() -> None:
    assert short_hash("2026-01-01T00:00:00Z") == short_hash("2026-01-01T00:00:00Z")
    assert short_hash("2026-01-01T00:00:00Z") != short_hash("2026-01-01T00:00:01Z")


@pytest.mark.parametrize(
    ("primary_key", "paths"),
    [
        ("uri", (("uri",),)),
        (["event_uri", "type"], (("event_uri",), ("type",))),
        ([["event_type"], ["availability_rule", "uri"]], (("event_type",), ("availability_rule", "uri"))),
    ],
)
def test_a_key_shape_follows_each_primary_key_form(primary_key: object, paths: tuple) -> None:
    assert KeyShape.of(primary_key).paths == paths  # type: ignore[arg-type]


def test_a_stream_without_a_primary_key_cannot_be_tracked() -> None:
    with pytest.raises(ValueError, match="primary key"):
        KeyShape.of(None)


def test_key_values_of_nested_paths_and_missing_objects() -> None:
    shape = KeyShape.of([["event_type"], ["availability_rule", "uri"]])
    assert shape.values({"event_type": "e", "availability_rule": {"uri": "r"}}) == ["e", "r"]
    assert shape.values({"event_type": "e", "availability_rule": None}) == ["e", None]
    assert shape.record(["e", "r"]) == {"event_type": "e", "availability_rule": {"uri": "r"}}


@pytest.mark.parametrize("values", [[f"{API}/users/u1"], ["plain", None, 3], [f"{API}/a", "https://example.com/b"]])
def test_encoded_keys_round_trip(values: list) -> None:
    assert decode_key(encode_key(values)) == values


def test_encoded_keys_drop_the_api_base() -> None:
    assert encode_key([f"{API}/users/u1"]) == '["~/users/u1"]'


def test_a_first_read_emits_every_child_and_tombstones_nothing() -> None:
    shape = KeyShape.of("uri")
    result = compare(None, [host(1), host(2)], shape)
    assert result.changed == [host(1), host(2)] and result.gone == []
    assert set(result.children) == {encode_key([host(1)["uri"]]), encode_key([host(2)["uri"]])}


def test_a_read_again_emits_new_and_changed_children_and_tombstones_the_gone() -> None:
    shape = KeyShape.of("uri")
    before = compare(None, [host(1), host(2), host(3)], shape).children
    result = compare(before, [host(1), host(2, name="changed"), host(4)], shape)
    assert result.changed == [host(2, name="changed"), host(4)]
    assert result.gone == [[host(3)["uri"]]]
    assert set(result.children) == {encode_key([host(n)["uri"]]) for n in (1, 2, 4)}


def test_an_empty_read_tombstones_every_child() -> None:
    shape = KeyShape.of("uri")
    before = compare(None, [host(1)], shape).children
    assert compare(before, [], shape).gone == [[host(1)["uri"]]]


def test_ignored_fields_do_not_make_a_child_changed() -> None:
    shape = KeyShape.of("uri")
    before = compare(None, [host(1, seen="a")], shape, ignore=["seen"]).children
    assert compare(before, [host(1, seen="b")], shape, ignore=["seen"]).changed == []


def test_a_tombstone_carries_the_key_the_deletion_time_and_the_cursor() -> None:
    shape = KeyShape.of([["event_type"], ["availability_rule", "uri"]])
    assert tombstone(shape, ["e", "r"], AT, {"_ab_cdc_updated_at": AT}) == {
        "event_type": "e",
        "availability_rule": {"uri": "r"},
        "_ab_cdc_updated_at": AT,
        DELETED_AT: AT,
    }
    assert tombstones(KeyShape.of("uri"), [["a"], ["b"]], AT) == [
        {"uri": "a", DELETED_AT: AT},
        {"uri": "b", DELETED_AT: AT},
    ]


def test_a_codec_keeps_each_key_values_prefix_once() -> None:
    codec = KeyCodec([])
    key = [f"{API}/event_types/et1", f"{API}/user_availability_schedules/s1"]
    assert codec.encode(key) == "et1 s1"
    assert codec.prefixes == [f"{API}/event_types/", f"{API}/user_availability_schedules/"]
    assert codec.decode("et1 s1") == key
    assert KeyCodec.parse(codec.prefixes) == codec


@pytest.mark.parametrize(
    "values",
    [
        [f"{API}/event_types/et1", None],  # a missing part
        [f"{API}/other/et1", f"{API}/user_availability_schedules/s1"],  # another prefix
        [f"{API}/event_types/a b", f"{API}/user_availability_schedules/s1"],  # the separator in an id
        [f"{API}/event_types/[x", f"{API}/user_availability_schedules/s1"],  # what marks a JSON key
        [f"{API}/event_types/", f"{API}/user_availability_schedules/s1"],  # no id at all
        [f"{API}/event_types/~abc", f"{API}/user_availability_schedules/s1"],  # what marks a packed UUID
        [f"{API}/event_types/et1"],  # fewer parts than the codec has
    ],
)
def test_a_key_that_does_not_fit_the_codec_is_kept_whole(values: list) -> None:
    codec = KeyCodec([f"{API}/event_types/", f"{API}/user_availability_schedules/"])
    encoded = codec.encode(values)
    assert encoded.startswith("[") and codec.decode(encoded) == values


def test_compare_with_a_codec_returns_the_gone_keys_decoded() -> None:
    shape, codec = KeyShape.of("uri"), KeyCodec([])
    before = compare(None, [host(1), host(2)], shape, codec).children
    assert set(before) == {"h1", "h2"}
    assert compare(before, [host(1)], shape, codec).gone == [[host(2)["uri"]]]


@pytest.mark.parametrize(
    ("tail", "packed"),
    [
        ("5620ac67-3d2b-4e8f-a1c9-0b7e6d5f4a32", True),
        ("5620AC67-3D2B-4E8F-A1C9-0B7E6D5F4A32", False),  # not canonical: kept as it is
        ("5620ac673d2b4e8fa1c90b7e6d5f4a32xxxx", False),
        ("{620ac67-3d2b-4e8f-a1c9-0b7e6d5f4a32", False),
    ],
)
def test_a_uuid_id_is_packed_and_anything_else_kept_as_it_is(tail: str, packed: bool) -> None:
    codec = KeyCodec([f"{API}/users/"])
    encoded = codec.encode([f"{API}/users/{tail}"])
    assert (len(encoded) == 23 and encoded.startswith("~")) is packed
    assert codec.decode(encoded) == [f"{API}/users/{tail}"]
