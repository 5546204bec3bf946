"""Scalars from TensorBoard event files, read without TensorFlow or tensorboard installed.

An events.out.tfevents.* file is a TFRecord stream (u64 length, u32 crc, payload, u32 crc) of `Event`
protocol buffers; only the fields scalars need are decoded: Event.step (2), Event.summary (5) ->
Summary.value (1) -> Value.tag (1), Value.simple_value (2) or Value.tensor (8, a float or double scalar).
"""

from __future__ import annotations

import struct
from pathlib import Path

from reportgen.errors import ReportgenError


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes):
    """(field number, wire type, value) for each field of one message; length-delimited values are bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, wire, value


def _tensor_scalar(buf: bytes) -> float | None:
    dtype, content = 1, None
    for number, wire, value in _fields(buf):
        if number == 1 and wire == 0:
            dtype = value
        elif number == 4:
            content = value
        elif number == 5:  # float_val: packed (wire 2) or one float (wire 5)
            return struct.unpack("<f", value[:4])[0]
        elif number == 6:
            return struct.unpack("<d", value[:8])[0]
    if content:
        return struct.unpack("<d", content[:8])[0] if dtype == 2 else struct.unpack("<f", content[:4])[0]
    return None


def _event_scalars(buf: bytes):
    step, summaries = 0, []
    for number, _wire, value in _fields(buf):
        if number == 2:
            step = value
        elif number == 5:
            summaries.append(value)
    for summary in summaries:
        for number, _wire, value in _fields(summary):
            if number != 1:
                continue
            tag, scalar = None, None
            for f, w, v in _fields(value):
                if f == 1:
                    tag = v.decode("utf-8", "replace")
                elif f == 2 and w == 5:
                    scalar = struct.unpack("<f", v)[0]
                elif f == 8:
                    scalar = _tensor_scalar(v)
            if tag is not None and scalar is not None:
                yield tag, step, float(scalar)


def read_records(path: Path):
    data = path.read_bytes()
    pos = 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack("<Q", data[pos:pos + 8])
        yield data[pos + 12:pos + 12 + length]
        pos += 12 + length + 4


def read_scalars(folder: Path) -> dict[str, dict[int, float]]:
    """{tag: {step: value}} over every event file under `folder` (later files win for a repeated step)."""
    found: dict[str, dict[int, float]] = {}
    for path in sorted(folder.rglob("events.out.tfevents.*")):
        try:
            for record in read_records(path):
                for tag, step, value in _event_scalars(record):
                    found.setdefault(tag, {})[step] = value
        except (ValueError, IndexError, struct.error) as exc:
            raise ReportgenError(f"{path}: not a readable TensorBoard event file ({exc})") from exc
    return found
