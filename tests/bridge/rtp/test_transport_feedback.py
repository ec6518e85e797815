"""Transport-wide CC feedback, checked by an independent reader of the draft's format."""

from __future__ import annotations

import random
import struct

from bridge.rtp.transport_feedback import TransportFeedback


def decode(packet: bytes) -> tuple[int, int, list[tuple[int, float | None]]]:
    """(base seq, fb count, [(seq, arrival ms or None)]) per
    draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1; any chunk type."""
    b0, pt, length, _sender, _media, base, count, ref = struct.unpack_from("!BBHIIHHI", packet)
    assert b0 & 0xC0 == 0x80 and b0 & 0x1F == 15 and pt == 205
    assert (length + 1) * 4 == len(packet)
    end = len(packet) - (packet[-1] if b0 & 0x20 else 0)
    reference_ms = (ref >> 8) * 64
    pos = 20
    symbols: list[int] = []
    while len(symbols) < count:
        (chunk,) = struct.unpack_from("!H", packet, pos)
        pos += 2
        if not chunk & 0x8000:  # run length
            symbols += [(chunk >> 13) & 3] * (chunk & 0x1FFF)
        elif chunk & 0x4000:  # two-bit vector
            symbols += [(chunk >> (12 - 2 * j)) & 3 for j in range(7)]
        else:  # one-bit vector
            symbols += [(chunk >> (13 - j)) & 1 for j in range(14)]
    symbols = symbols[:count]
    out: list[tuple[int, float | None]] = []
    units = reference_ms * 4
    for i, symbol in enumerate(symbols):
        if symbol == 0:
            out.append(((base + i) & 0xFFFF, None))
            continue
        if symbol == 1:
            units += packet[pos]
            pos += 1
        else:
            units += struct.unpack_from("!h", packet, pos)[0]
            pos += 2
        out.append(((base + i) & 0xFFFF, units / 4))
    assert pos <= end
    return base, ref & 0xFF, out


def test_nothing_recorded_nothing_sent() -> None:
    assert TransportFeedback(1).build(2) == []


def test_arrivals_losses_and_deltas_round_trip() -> None:
    fb = TransportFeedback(0x1111)
    arrivals = {100: 1000, 101: 1001, 103: 1003, 104: 1010, 105: 1500}  # 102 lost, big gap
    for seq, ms in arrivals.items():
        fb.on_packet(seq, ms)
    (packet,) = fb.build(0x2222)
    assert struct.unpack_from("!II", packet, 4) == (0x1111, 0x2222)
    base, count, statuses = decode(packet)
    assert base == 100 and count == 0
    assert statuses == [(s, arrivals.get(s)) for s in range(100, 106)]


def test_reordered_arrival_gets_a_negative_delta() -> None:
    fb = TransportFeedback(1)
    fb.on_packet(7, 2000)
    fb.on_packet(9, 2005)
    fb.on_packet(8, 2003)  # arrives after 9
    _, _, statuses = decode(fb.build(0)[0])
    assert statuses == [(7, 2000), (8, 2003), (9, 2005)]


def test_next_feedback_continues_and_reports_losses_at_its_start() -> None:
    fb = TransportFeedback(1)
    fb.on_packet(65534, 10)
    fb.on_packet(65535, 11)
    first = fb.build(0)
    fb.on_packet(2, 20)  # 0 and 1 lost across the wrap
    fb.on_packet(65535, 12)  # duplicate of an already reported packet: ignored
    second = fb.build(0)
    assert decode(first[0])[1:] == (0, [(65534, 10), (65535, 11)])
    assert decode(second[0])[1:] == (1, [(0, None), (1, None), (2, 20)])


def test_a_packet_reported_lost_that_arrives_later_is_reported_received() -> None:
    fb = TransportFeedback(1)
    for seq in (10, 11, 13):
        fb.on_packet(seq, 100 + seq)
    assert decode(fb.build(0)[0])[2] == [(10, 110), (11, 111), (12, None), (13, 113)]
    assert (fb.reported_received, fb.reported_lost) == (3, 1)
    fb.on_packet(12, 130)  # reordered behind a feedback, not lost
    fb.on_packet(14, 131)
    late, new = fb.build(0)
    assert decode(late)[2] == [(12, 130)]  # alone: 11 and 13 are not reported lost again
    assert decode(new)[2] == [(14, 131)]
    assert (fb.reported_received, fb.reported_lost) == (4, 1)  # the guard counts it lost
    fb.on_packet(12, 140)  # a duplicate of the late one is not reported a third time
    assert fb.build(0) == []


def test_a_delta_beyond_16_bits_starts_a_new_packet() -> None:
    fb = TransportFeedback(1)
    fb.on_packet(1, 1000)
    fb.on_packet(2, 1000 + 9000)  # 9 s later: 36000 units do not fit a signed 16-bit delta
    packets = fb.build(0)
    assert [decode(p)[2] for p in packets] == [[(1, 1000)], [(2, 10000)]]


def test_padding_keeps_the_packet_32_bit_aligned() -> None:
    fb = TransportFeedback(1)
    fb.on_packet(1, 64)
    (packet,) = fb.build(0)  # 20 + 2 (chunk) + 1 (delta) -> 1 byte of padding
    assert len(packet) == 24 and packet[0] & 0x20 and packet[-1] == 1
    assert decode(packet)[2] == [(1, 64)]


def test_chunks_are_run_length_or_vectors_of_the_right_width() -> None:
    fb = TransportFeedback(1)
    arrivals = {s: 5000 + s for s in range(0, 30)}  # 30 small deltas
    # 30..99 lost; 100..113 small deltas but 106 lost; 114 a large delta (100 ms)
    arrivals.update({s: 4979 + s for s in range(100, 114) if s != 106})  # 100: +50 ms
    arrivals[114] = 4979 + 113 + 100
    for seq, ms in arrivals.items():
        fb.on_packet(seq, ms)
    (packet,) = fb.build(0)
    chunks = [struct.unpack_from("!H", packet, 20 + 2 * i)[0] for i in range(4)]
    assert chunks[0] == (1 << 13) | 30  # run length (§3.1.3): 30 x "small delta"
    assert chunks[1] == (0 << 13) | 70  # 70 x "not received"
    assert chunks[2] == 0x8000 | 0b11111101111111  # one-bit vector (§3.1.4), 100..113
    assert chunks[3] == 0xC000 | (2 << 12)  # two-bit vector: 114 "large delta", padding
    assert decode(packet)[2] == [(s, arrivals.get(s)) for s in range(0, 115)]


def test_feedback_packet_count_wraps_at_8_bits() -> None:
    fb = TransportFeedback(1)
    counts = []
    for i in range(258):
        fb.on_packet(i, 1000 + i)
        counts.append(decode(fb.build(0)[0])[1])
    assert counts[:2] == [0, 1] and counts[255:] == [255, 0, 1]


def test_reference_time_is_24_bits_of_64_ms() -> None:
    fb = TransportFeedback(1)
    arrival = ((1 << 24) + 5) * 64 + 10  # past the 24-bit wrap of the reference time
    fb.on_packet(1, arrival)
    (packet,) = fb.build(0)
    ref = struct.unpack_from("!I", packet, 16)[0] >> 8
    assert ref == 5
    assert packet[20 + 2] == 10 * 4  # first delta: 10 ms after the reference, 250 us units


def test_an_outage_is_reported_in_packets_under_the_mtu() -> None:
    fb = TransportFeedback(1)
    fb.on_packet(0, 1000)
    fb.build(0)
    for i in range(3):  # 5000 lost, then packets again
        fb.on_packet(5001 + i, 9000 + i)
    packets = fb.build(0)
    assert all(len(p) <= 1200 for p in packets)
    statuses = [s for p in packets for s in decode(p)[2]]
    lost = [(s, None) for s in range(1, 5001)]
    assert statuses == lost + [(5001 + i, 9000 + i) for i in range(3)]


def test_random_arrivals_round_trip_through_an_independent_reader() -> None:
    for seed in range(40):
        rng = random.Random(seed)
        fb = TransportFeedback(1)
        start = rng.randrange(0, 65536)
        now = rng.randrange(0, 1 << 30)
        expected: dict[int, int] = {}
        reported: list[tuple[int, float | None]] = []
        seq = start
        for _ in range(rng.randrange(1, 8)):  # a few feedback intervals
            batch = []
            for _ in range(rng.randrange(1, 400)):
                now += rng.choice((0, 0, 1, 2, 5, 70, 300))
                if rng.random() > 0.2:  # 20 % lost
                    batch.append((seq, now))
                seq += 1
            if rng.random() < 0.3:
                rng.shuffle(batch)  # reordering within a feedback interval
            for s, ms in batch:
                fb.on_packet(s & 0xFFFF, ms)
                expected[s & 0xFFFF] = ms
            for packet in fb.build(0):
                assert len(packet) <= 1200 and len(packet) % 4 == 0
                reported += decode(packet)[2]
        seqs = [s for s, _ in reported]
        assert len(seqs) == len(set(seqs))  # each sequence number reported once
        # everything from the first arrival to the last, in order, wrapping at 16 bits
        first = seqs[0]
        assert seqs == [(first + i) & 0xFFFF for i in range(len(seqs))]
        for s, ms in reported:
            assert ms == expected.get(s), (seed, s)
