"""What the startup checks share: their error, their probe timeout, a one-line reason."""

PROBE_TIMEOUT_SECONDS = 5


class StartupCheckError(RuntimeError):
    """The deployment cannot work as configured; the message says what and which setting."""


def first_line(error: BaseException) -> str:
    """The first line of an error's text (its type name when it has none)."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
