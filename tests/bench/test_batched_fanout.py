"""bench.load.batched_fanout: the sketch protects and sends every packet to every listener
(no timing asserted)."""

from __future__ import annotations

from bench.load.batched_fanout import sketch
from bench.load.hotpath import packets
from bench.load.media import Media


def test_the_sketch_sends_every_packet_to_every_listener() -> None:
    stream = list(packets(Media.synthetic(), 0.2))
    _, sent = sketch(3, stream)
    assert sent == 3 * len(stream)  # libsrtp protected each (a failure returns False)
