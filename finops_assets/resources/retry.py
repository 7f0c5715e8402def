"""Retries for cloud API calls: tenacity owns them, a circuit breaker stops a hopeless run.

botocore's own retries must be off (`Config(retries={"total_max_attempts": 1})`): stacked
retries multiply (4 botocore calls x 5 tenacity attempts = 20 calls at the provider).
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import botocore.exceptions
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

T = TypeVar("T")

# Error codes that mean "slow down" or "try again later" at AWS.
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "LimitExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalServerError",
        "InternalFailure",
    }
)
_CONNECTION_ERRORS = (
    botocore.exceptions.ConnectionError,
    botocore.exceptions.HTTPClientError,
    ConnectionError,
    TimeoutError,
)


class CircuitOpenError(RuntimeError):
    """An operation failed too many times in a row; the run stops with the last error."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry, and when the circuit opens."""

    max_attempts: int = 5  # tenacity attempts per call (each is exactly one HTTP request)
    initial_wait: float = 1.0  # seconds; doubles each attempt, plus jitter
    max_wait: float = 30.0
    jitter: float = 1.0
    breaker_threshold: int = 5  # consecutive failures (across calls) that open the circuit


def is_retryable(error: BaseException) -> bool:
    """Throttling, limit exceeded, 5xx and connection errors are worth another attempt."""
    if isinstance(error, botocore.exceptions.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in RETRYABLE_CODES or int(status or 0) >= 500
    return isinstance(error, _CONNECTION_ERRORS)


def describe(error: BaseException) -> str:
    """A one-line description of an error without request details (no credentials)."""
    if isinstance(error, botocore.exceptions.ClientError):
        info = error.response.get("Error", {})
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"{info.get('Code', 'error')} (HTTP {status}): {info.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"


class CircuitBreaker:
    """Counts consecutive failures; at `threshold` it opens and every later call fails fast."""

    def __init__(self, threshold: int):
        if threshold < 1:
            raise ValueError("the circuit breaker threshold must be at least 1")
        self.threshold = threshold
        self.failures = 0
        self.last_error: BaseException | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self.failures >= self.threshold

    def check(self, operation: str) -> None:
        """Raise CircuitOpenError if the circuit is open."""
        if self.is_open:
            raise CircuitOpenError(self._message(operation))

    def record_success(self) -> None:
        with self._lock:
            self.failures = 0
            self.last_error = None

    def record_failure(self, operation: str, error: BaseException) -> None:
        """Count a failure; raise CircuitOpenError (from `error`) when this one opens the circuit."""
        with self._lock:
            self.failures += 1
            self.last_error = error
            opened = self.is_open
        if opened:
            raise CircuitOpenError(self._message(operation)) from error

    def _message(self, operation: str) -> str:
        last = describe(self.last_error) if self.last_error else "unknown"
        return (
            f"{operation}: circuit open after {self.failures} consecutive failures; "
            f"the run stops and nothing is written for this day. Last error: {last}"
        )


def call_with_retries(
    operation: str,
    call: Callable[[], T],
    policy: RetryPolicy,
    breaker: CircuitBreaker,
) -> T:
    """`call()` with exponential backoff and jitter on retryable errors, guarded by `breaker`.

    Raises CircuitOpenError when the breaker opens, or a RuntimeError naming the operation and
    the last error when the attempts run out or the error is not retryable.
    """
    breaker.check(operation)
    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait_exponential_jitter(
            initial=policy.initial_wait, max=policy.max_wait, jitter=policy.jitter
        ),
        retry=retry_if_exception(is_retryable),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                try:
                    result = call()
                except Exception as error:
                    breaker.record_failure(operation, error)
                    raise
                breaker.record_success()
                return result
    except CircuitOpenError:
        raise
    except Exception as error:
        attempts = retrying.statistics.get("attempt_number", 1)
        raise RuntimeError(
            f"{operation} failed after {attempts} attempt(s): {describe(error)}"
        ) from error
    raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover
