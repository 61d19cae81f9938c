import pytest

from source_calendly.streams.incremental import chunks_with_last


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
