"""The consumer's content dedup during a reshard's overlap (:class:`OverlapFilter`),
with a fake clock: each dispatch once whichever generation's copy comes first, equal
contents counted, the window and the bound, the recent ring, and the end of an overlap."""

from __future__ import annotations

from rxgateway.bus.bus import OverlapFilter, content_digest
from rxgateway.bus.bus_event import BusEvent


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def event(generation: int, seq: int, d: bytes, name: str = "MESSAGE_CREATE", published_at: float = 100.0) -> BusEvent:
    payload = b'{"t":"%b","s":%d,"op":0,"d":%b}' % (name.encode(), seq, d)
    return BusEvent(seq % 4, 4 if generation == 0 else 8, f"s{generation}", seq, name, payload, generation, published_at)


def test_the_digest_is_type_and_d_whatever_the_sequence_or_the_layout() -> None:
    a = content_digest("X", b'{"t":"X","s":1,"op":0,"d":{"a":1}}')
    assert a == content_digest("X", b'{"t":"X","s":99999,"op":0,"d":{"a":1}} ')
    assert a == content_digest("X", b'{"op":0,"d":{"a":1},"s":3,"t":"X"}')  # parsed: another layout
    assert a != content_digest("Y", b'{"t":"Y","s":1,"op":0,"d":{"a":1}}')
    assert a != content_digest("X", b'{"t":"X","s":1,"op":0,"d":{"a":2}}')


def test_outside_an_overlap_everything_passes_and_nothing_is_hashed() -> None:
    f = OverlapFilter(10.0, clock=Clock())
    assert all(f.admit(event(0, n, b'{"same":1}')) for n in range(1, 50))  # equal contents: all delivered
    assert not f.overlapping and not f.contents and len(f.recent) == 49


def test_each_dispatch_once_whichever_copy_comes_first_and_equal_contents_counted() -> None:
    clock = Clock()
    f = OverlapFilter(10.0, clock=clock)
    assert f.admit(event(0, 1, b'{"id":1}'))
    assert not f.admit(event(1, 1, b'{"id":1}'))  # the new generation's copy
    assert f.overlapping
    assert f.admit(event(1, 2, b'{"id":2}'))  # the new copy first this time
    assert not f.admit(event(0, 2, b'{"id":2}'))
    # two distinct dispatches with equal content: two deliveries, two copies dropped
    same = b'{"typing":true}'
    got = [f.admit(event(0, 3, same)), f.admit(event(1, 3, same)), f.admit(event(1, 4, same)), f.admit(event(0, 4, same))]
    assert got == [True, False, True, False]


def test_copies_that_came_just_before_the_overlap_are_recognised() -> None:
    f = OverlapFilter(10.0, clock=Clock())
    assert f.admit(event(0, 1, b'{"id":1}', published_at=100.0))
    assert f.admit(event(0, 2, b'{"guild":1}', published_at=80.0))  # older than the window: not counted
    assert f.admit(event(1, 1, b'{"ready":1}', name="READY", published_at=101.0))  # the overlap starts
    assert not f.admit(event(1, 2, b'{"id":1}'))
    assert f.admit(event(1, 3, b'{"guild":1}'))


def test_the_window_and_the_bound_and_the_end_of_the_overlap() -> None:
    clock = Clock()
    f = OverlapFilter(2.0, limit=3, clock=clock)
    f.admit(event(0, 1, b'{"id":0}'))
    f.admit(event(1, 1, b'{"id":1}'))
    clock.now += 2.5  # the first copies are past the window
    assert f.admit(event(0, 2, b'{"id":1}'))  # a copy too late: delivered (at least once)
    for n in range(3, 8):
        f.admit(event(0, n, b'{"id":%d}' % n))
        f.admit(event(1, n, b'{"id":%d}' % n))
        assert len(f.contents) <= 3
    assert f.overlapping
    clock.now += 1.5
    assert f.admit(event(1, 9, b'{"id":9}'))
    assert f.overlapping  # both seen within the window
    clock.now += 1.0
    assert f.admit(event(1, 10, b'{"id":10}'))  # generation 0 unseen for longer than the window
    assert not f.overlapping and f.generation == 1 and not f.contents
    assert f.admit(event(1, 11, b'{"id":10}'))  # back to the fast path: equal content passes
