import pytest

from source_calendly.streams.incremental import HistoryShares, chunks_with_last


@pytest.mark.parametrize(
    "n, expected",
    [
        (0, [([], True)]),  # an empty window still gets the slice that closes its pass
        (2, [([0, 1], True)]),
        (3, [([0, 1, 2], True)]),
        (6, [([0, 1, 2], False), ([3, 4, 5], True)]),
        (7, [([0, 1, 2], False), ([3, 4, 5], False), ([6], True)]),
    ],
)
def test_chunks_flag_exactly_the_last_one(n: int, expected: list) -> None:
    assert list(chunks_with_last(range(n), size=3)) == expected


@pytest.mark.parametrize(
    "budget, shares, events",
    [
        (0, (0, 0, 0), 0),
        (1, (1, 0, 1), 0),  # a tenth is rounded up: too small a budget leaves the invitee walk nothing
        (4, (1, 2, 1), 1),
        (5, (1, 3, 1), 2),
        (30, (3, 24, 3), 23),
        (200, (20, 160, 20), 158),
        (1000, (100, 800, 100), 792),
    ],
)
def test_the_history_budget_is_split_and_the_invitee_step_fits_its_share(
    budget: int, shares: tuple, events: int
) -> None:
    split = HistoryShares.of(budget)
    assert (split.event_pages, split.invitee_requests, split.submission_pages) == shares
    assert split.invitee_events == events
    # n invitee requests plus the pages listing n + 1 events fit; one more event would not.
    assert events == 0 or events + -(-(events + 1) // 100) <= split.invitee_requests
    assert events + 1 + -(-(events + 2) // 100) > split.invitee_requests
