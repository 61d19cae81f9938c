"""Listings kept on disk for the rest of a sync: replayed whole, never half, and removed afterwards."""

from __future__ import annotations

import gc

from source_calendly.spool import ListingSpool

RECORDS = [{"uri": f"https://api.calendly.com/scheduled_events/e{i}", "n": i} for i in range(5)]


def test_a_listing_read_to_the_end_is_replayed_as_it_was() -> None:
    spool = ListingSpool()
    assert spool.replay("events") is None
    assert list(spool.keep("events", iter(RECORDS))) == RECORDS
    replayed = spool.replay("events")
    assert replayed is not None and list(replayed) == RECORDS
    assert list(spool.replay("events") or []) == RECORDS  # as often as needed
    assert spool.replay("forms") is None  # another listing was never kept


def test_a_listing_left_halfway_is_not_replayed() -> None:
    spool = ListingSpool()
    listing = spool.keep("events", iter(RECORDS))
    next(listing)
    assert spool.replay("events") is None


def test_every_file_lives_in_one_private_directory_removed_with_the_spool() -> None:
    spool = ListingSpool()
    list(spool.keep("events", iter(RECORDS)))
    list(spool.keep("forms", iter(RECORDS[:2])))
    directory = spool._dir
    assert directory is not None and directory.name.startswith("source-calendly-")
    files = sorted(directory.iterdir())
    assert len(files) == 2 and all(f.suffix == ".jsonl" for f in files)
    del spool
    gc.collect()
    assert not directory.exists()


def test_a_listing_read_in_part_is_replayed_only_to_a_reader_that_wants_no_more_than_it_holds() -> None:
    # The history walks stop at their budget: the event walk reads 3 events, the invitee walk then needs at most 3.
    spool = ListingSpool()
    listing = spool.keep("history", iter(RECORDS))
    assert [next(listing) for _ in range(3)] == RECORDS[:3]
    listing.close()  # the walk stopped there
    assert spool.replay("history") is None  # not a whole listing
    assert spool.replay("history", at_least=4) is None  # it holds only 3
    for wanted in (3, 1):
        replayed = spool.replay("history", at_least=wanted)
        assert replayed is not None and list(replayed) == RECORDS[:3]
    assert spool.replay("events", at_least=1) is None  # another listing was never kept
