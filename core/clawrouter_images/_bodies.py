"""Reading a body under a cap: counted as it arrives, compressed bodies refused.

Every body the client reads (answers, downloads, input URLs) goes through ``meter``, so
that a check (a cap, a deadline) runs after each chunk, however the body is read.
Compressed bodies are refused rather than decoded: one network read of a zstd or gzip bomb
can inflate into gigabytes before any cap sees it.  With identity encoding the bytes
counted off the wire are the bytes kept, so a cap bounds memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import httpx

from ._exceptions import quote

_IDENTITY = frozenset({"", "identity"})


def encoding_problem(response: httpx.Response) -> str | None:
    """The problem with a body encoded in a way the client did not ask for, or None."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in _IDENTITY:
        return None
    return f"it sent a {quote(encoding, 40)}-encoded body, which this client never asks for"


def meter(response: httpx.Response, check: Callable[[int], None]) -> None:
    """Have ``check(total)`` called as ``response``'s body arrives, whichever way it is read.

    A transport may hand over a body already in memory (``httpx.MockTransport`` does):
    that one is checked once, whole.
    """
    if response.is_stream_consumed:
        check(len(response.content))
    else:
        response.stream = _CappedStream(response.stream, check)


# What a closed response holds instead of its stream: nothing is left to read from it.
_DONE = httpx.ByteStream(b"")


def release(response: httpx.Response) -> None:
    """Drop a closed response's stream (a body that was read stays in ``content``).

    httpx binds a response's stream to the response, a reference cycle: each answer would
    wait for the cycle collector, with the request, headers and connection-pool objects it
    holds (about 45 objects a call), and the collector would run about every 15 calls.
    Without the stream, reference counting frees them when the response goes."""
    response.stream = _DONE


class _CappedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that calls ``check(total)`` after every chunk, so a cap can stop it."""

    def __init__(
        self, stream: httpx.SyncByteStream | httpx.AsyncByteStream, check: Callable[[int], None]
    ) -> None:
        self._stream = stream
        self._check = check

    def __iter__(self) -> Iterator[bytes]:
        assert isinstance(self._stream, httpx.SyncByteStream)
        size = 0
        for chunk in self._stream:
            size += len(chunk)
            self._check(size)
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self._stream, httpx.AsyncByteStream)
        size = 0
        async for chunk in self._stream:
            size += len(chunk)
            self._check(size)
            yield chunk

    def close(self) -> None:
        if isinstance(self._stream, httpx.SyncByteStream):
            self._stream.close()

    async def aclose(self) -> None:
        if isinstance(self._stream, httpx.AsyncByteStream):
            await self._stream.aclose()
