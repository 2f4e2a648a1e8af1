"""``Recent``: a reading (or its error) reused for ``ttl`` seconds of the given clock."""

from __future__ import annotations

import pytest

from service.observability.recent import Recent


def test_a_reading_is_reused_until_it_is_ttl_old() -> None:
    now, reads = [0.0], []

    def read() -> int:
        reads.append(now[0])
        if len(reads) == 2:
            raise ConnectionError("down")
        return len(reads)

    recent = Recent(read, 2.0, clock=lambda: now[0])
    assert [recent(), recent()] == [1, 1]
    now[0] = 1.9
    assert recent() == 1
    now[0] = 2.0
    with pytest.raises(ConnectionError):
        recent()
    now[0] = 3.0
    with pytest.raises(ConnectionError):  # the error is reused too: no retry storm
        recent()
    now[0] = 4.0
    assert recent() == 3
    assert reads == [0.0, 2.0, 4.0]


def test_ttl_zero_reads_every_time() -> None:
    reads: list[int] = []
    recent = Recent(lambda: reads.append(1) or len(reads), 0.0, clock=lambda: 5.0)
    assert [recent(), recent(), recent()] == [1, 2, 3]
