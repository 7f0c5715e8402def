"""An iterable run in its own thread, handed over through a small queue.

delta-rs pulls a streamed write's batches from one of its async runtime's threads, where
anything that itself calls into delta-rs (reading another Delta table, say) would try to start
a runtime inside a runtime and panic. Producing the frames in a plain thread avoids that, and
lets the next frame be computed while the writer encodes this one.
"""

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()
_POLL_SECONDS = 0.1


class ThreadedIterator(Iterator[T]):
    """Iterate `items` in a background thread, at most `depth` items ahead of the consumer.

    An exception raised by `items` is raised to the consumer; close() (also on garbage
    collection of a with-block) stops the producer and waits for it.
    """

    def __init__(self, items: Iterable[T], depth: int = 1) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._produce, args=(items,), daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, items: Iterable[T]) -> None:
        try:
            for item in items:
                if not self._put(item):
                    return
            self._put(_DONE)
        except BaseException as error:  # handed to the consumer, raised there
            self._put(error)

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        item = self._queue.get()
        if item is _DONE:
            self._finished = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._finished = True
            raise item
        return item  # type: ignore[no-any-return]

    def close(self) -> None:
        self._finished = True
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> "ThreadedIterator[T]":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
