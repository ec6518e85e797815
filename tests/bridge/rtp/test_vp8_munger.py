from __future__ import annotations

import pytest

from bridge.rtp.vp8 import parse_vp8_descriptor
from bridge.rtp.vp8_munger import Vp8Munger, picture_id_bits


def test_first_picture_keeps_incoming_values() -> None:
    m = Vp8Munger()
    assert m.forward(1234, 17, resync=True) == (1234, 17)
    assert m.forward(1234, 17, resync=False) == (1234, 17)
    assert m.forward(1235, 17, resync=False) == (1235, 17)


def test_dropped_pictures_close_up() -> None:
    m = Vp8Munger()
    m.forward(100, 5, resync=True)
    m.skip(101)
    m.skip(101)  # second packet of the same dropped picture
    assert m.forward(102, 5, resync=False) == (101, 5)
    m.skip(103)
    assert m.forward(104, 6, resync=False) == (102, 6)
    assert m.forward(103, 5, resync=False) is None  # late packet of a dropped picture


def test_layer_switch_continues_picture_id_and_tl0() -> None:
    m = Vp8Munger()
    m.forward(500, 200, resync=True)
    assert m.forward(501, 201, resync=False) == (501, 201)
    # other simulcast layer: unrelated numbering
    assert m.forward(9000, 3, resync=True) == (502, 202)
    assert m.forward(9001, 3, resync=False) == (503, 202)
    assert m.forward(9002, 4, resync=False) == (504, 203)
    assert m.forward(501, 201, resync=False) is None  # old layer, before the resync


@pytest.mark.parametrize("first", [0x7FFE, 0x7FFF])
def test_15_bit_picture_id_and_tl0_wrap(first: int) -> None:
    m = Vp8Munger()
    m.forward(first, 255, resync=True)
    assert m.forward((first + 1) & 0x7FFF, 0, resync=False) == ((first + 1) & 0x7FFF, 0)
    assert m.forward((first + 2) & 0x7FFF, 1, resync=False) == ((first + 2) & 0x7FFF, 1)


def test_7_bit_picture_id_unwraps_in_7_bits() -> None:
    m = Vp8Munger()
    m.forward(126, None, resync=True, picture_id_bits=7)
    m.skip(127, picture_id_bits=7)
    assert m.forward(0, None, resync=False, picture_id_bits=7) == (127, None)
    assert m.forward(1, None, resync=False, picture_id_bits=7) == (128, None)


def test_output_wraps_at_15_bits_after_switch() -> None:
    m = Vp8Munger()
    m.forward(0x7FFF, None, resync=True)
    assert m.forward(40, None, resync=True) == (0, None)


def test_fields_absent() -> None:
    m = Vp8Munger()
    assert m.forward(None, None, resync=True) == (None, None)
    m.skip(None)
    assert m.forward(7, None, resync=False) == (7, None)  # starts the picture id part


def desc(pid: bytes, tl0: bool = True, tid: bool = True) -> bytes:
    x = 0x80 | (0x40 if tl0 else 0) | (0x20 if tid else 0)
    return bytes([0x90, x]) + pid + (b"\x21" if tl0 else b"") + (b"\x40" if tid else b"") + b"\x00"


@pytest.mark.parametrize(
    ("pid", "tl0", "tid", "bits"),
    [
        (b"\x05", True, True, 7),
        (b"\x81\x02", True, True, 15),
        (b"\x05", False, False, 7),
        (b"\x81\x02", False, True, 15),
    ],
)
def test_picture_id_bits(pid: bytes, tl0: bool, tid: bool, bits: int) -> None:
    assert picture_id_bits(parse_vp8_descriptor(desc(pid, tl0, tid))) == bits


def test_packets_of_one_picture_map_alike_until_a_resync_or_skip() -> None:
    m = Vp8Munger()
    assert m.forward(10, 3, resync=True) == (10, 3)
    assert m.forward(10, 3, resync=False) == (10, 3)  # second packet of picture 10
    # a resync is never answered from the previous packet: the same picture now follows
    # the last one sent
    assert m.forward(10, 3, resync=True) == (11, 4)
    assert m.forward(10, 3, resync=False) == (11, 4)
    m.skip(11)  # picture 11 dropped (its first packet)
    assert m.forward(11, 3, resync=False) is None
    assert m.forward(12, 3, resync=False) == (12, 4)
    assert m.forward(12, 4, resync=False) == (12, 5)  # any field differing: mapped anew
