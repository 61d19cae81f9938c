"""KeyMemory and RangeScan (source_calendly/key_memory.py): what a re-read range concludes gone, and the state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from source_calendly.key_memory import KeyMemory, instant_of

BASE = "https://api.calendly.com/scheduled_events/"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
UUIDS = [f"{BASE}0000000{i}-aaaa-4bbb-8ccc-dddddddddddd" for i in range(6)]


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def remembered() -> KeyMemory:
    memory = KeyMemory()
    for i, uri in enumerate(UUIDS):
        memory.remember(at(i), [uri])
    return memory


def test_a_scan_concludes_only_what_the_read_has_passed() -> None:
    memory = remembered()
    scan = memory.scan(at(1))  # from the second record on
    assert scan.see(at(1), [UUIDS[1]]) == []
    gone = scan.see(at(4), [UUIDS[4]])  # 2 and 3 were passed and not listed
    assert [g.key for g in gone] == [[UUIDS[2]], [UUIDS[3]]]
    assert scan.complete_to(at(5)) == []  # 4 was listed; 5 is not passed yet
    assert [g.key for g in scan.complete_to(None)] == [[UUIDS[5]]]
    assert [UUIDS[0]] not in [g.key for g in gone]  # before the range: never concluded
    memory.forget(gone)
    assert len(memory) == 4


def test_a_record_before_the_range_tells_nothing_and_an_unpassed_instant_stays() -> None:
    memory = remembered()
    scan = memory.scan(at(3))
    assert scan.see(at(0), [UUIDS[0]]) == []  # let in by the listing's margin
    assert scan.complete_to(at(3)) == []
    assert len(memory) == 6


def test_a_record_at_a_remembered_instant_keeps_it_and_a_new_one_is_learned() -> None:
    memory = remembered()
    scan = memory.scan(None)
    new = f"{BASE}10000000-aaaa-4bbb-8ccc-dddddddddddd"
    for i, uri in enumerate(UUIDS):
        assert scan.see(at(i), [uri]) == []
    scan.see(at(2), [new])
    assert scan.complete_to(None) == []
    assert len(memory) == 7


def test_children_are_remembered_per_parent_and_go_with_it() -> None:
    memory = KeyMemory(children="invitees")
    memory.set_children(at(1), [UUIDS[1]], [[f"{UUIDS[1]}/invitees/{UUIDS[2][-36:]}"]])
    memory.set_children(at(2), [UUIDS[2]], [])
    assert memory.children_of(at(1), [UUIDS[1]]) == [[f"{UUIDS[1]}/invitees/{UUIDS[2][-36:]}"]]
    assert memory.children_of(at(3), [UUIDS[3]]) is None  # never read
    scan = memory.scan(None)
    gone = scan.see(at(2), [UUIDS[2]])  # passed the first; a listed event is not learned (its invitees unknown)
    assert scan.complete_to(None) == []
    assert [(g.key, g.children) for g in gone] == [([UUIDS[1]], [[f"{UUIDS[1]}/invitees/{UUIDS[2][-36:]}"]])]
    assert len(memory) == 2


def test_the_state_round_trips_and_packs_a_uuid_into_23_characters() -> None:
    memory = remembered()
    saved = memory.to_dict()
    assert saved["codec"] == [BASE]
    assert all(len(keys[0]) == 23 for keys in saved["keys"].values())
    assert KeyMemory.parse(saved).to_dict() == saved
    parents = KeyMemory(children="invitees")
    parents.set_children(at(1), [UUIDS[1]], [[f"{UUIDS[1]}/invitees/{UUIDS[3][-36:]}"]])
    assert KeyMemory.parse(parents.to_dict(), "invitees").to_dict() == parents.to_dict()
    assert KeyMemory.parse(None).at == {}


@pytest.mark.parametrize(
    "raw", [[], {"codec": [], "keys": {"!": ["a"]}}, {"codec": 3}, {"codec": [], "keys": {"1": "a"}}, {"x": 1}]
)
def test_a_malformed_memory_is_a_value_error(raw: object) -> None:
    with pytest.raises(ValueError):
        KeyMemory.parse(raw)


def test_instants_are_exact_to_the_microsecond() -> None:
    assert instant_of(T0 + timedelta(microseconds=1)) - instant_of(T0) == 1
