"""Scratch files for frames that wait for a second pass (Arrow IPC, lz4), deleted on close."""

import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import polars as pl


class SpillFolder:
    """Keeps frames on disk until they are taken back; a context manager that cleans up.

    `hold` has the shape allocate.allocate_chunks expects: it writes the frame now and returns
    the function that reads it back, so a large day's waiting rows cost disk, not memory.
    """

    def __init__(self, parent: Path | None = None) -> None:
        self._folder = tempfile.TemporaryDirectory(dir=parent, prefix=".spill-")
        self._count = 0

    @property
    def path(self) -> Path:
        return Path(self._folder.name)

    def hold(self, frame: pl.DataFrame) -> Callable[[], pl.DataFrame]:
        self._count += 1
        file = self.path / f"frame-{self._count:05d}.arrow"
        frame.write_ipc(file, compression="lz4")
        return lambda: pl.read_ipc(file, memory_map=False)

    def close(self) -> None:
        self._folder.cleanup()

    def __enter__(self) -> "SpillFolder":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
