"""Line splitting of watch streams and query encoding."""

from __future__ import annotations

from collections.abc import AsyncIterator

from weir.kube.transport import _query, iter_lines


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for p in parts:
        yield p


async def lines(*parts: bytes) -> list[bytes]:
    return [line async for line in iter_lines(chunks(*parts))]


async def test_lines_across_chunks() -> None:
    assert await lines(b'{"a":1}\n{"b"', b":2}\n", b'{"c":3}') == [
        b'{"a":1}',
        b'{"b":2}',
        b'{"c":3}',
    ]


async def test_long_line_in_many_chunks() -> None:
    big = b"x" * 5_000_000
    parts = [big[i : i + 65536] for i in range(0, len(big), 65536)]
    assert await lines(*parts, b"\n", b"y\n") == [big, b"y"]


async def test_blank_lines_skipped() -> None:
    assert await lines(b"\n\na\n\n", b"\n") == [b"a"]


def test_query_encoding() -> None:
    assert _query({"watch": True, "force": False, "limit": 5, "continue": None}) == {
        "watch": "true",
        "force": "false",
        "limit": "5",
    }
