"""ThreadedIterator: items in order, errors handed over, the producer stopped on close."""

import threading

import pytest

from finops_assets.storage.producer import ThreadedIterator


def test_items_arrive_in_order_from_another_thread():
    threads = []

    def produce():
        for i in range(50):
            threads.append(threading.current_thread())
            yield i

    with ThreadedIterator(produce()) as items:
        assert list(items) == list(range(50))
    assert all(t is not threading.current_thread() for t in threads)


def test_an_error_of_the_producer_is_raised_to_the_consumer_after_its_items():
    def produce():
        yield 1
        raise ValueError("bad chunk 2")

    with ThreadedIterator(produce()) as items:
        assert next(items) == 1
        with pytest.raises(ValueError, match="bad chunk 2"):
            next(items)
        with pytest.raises(StopIteration):
            next(items)


def test_closing_early_stops_a_producer_that_would_run_forever():
    produced = []

    def forever():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    items = ThreadedIterator(forever(), depth=2)
    assert next(items) == 0
    items.close()
    count = len(produced)
    assert count <= 5  # at most depth items ahead of the consumer, then it stopped
    assert not items._thread.is_alive()
