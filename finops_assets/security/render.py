"""Write the generated Terraform: `python -m finops_assets.security.render deploy/terraform`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from finops_assets.security.terraform import terraform_files


def render_terraform(out_dir: Path) -> list[Path]:
    """Write every generated file under `out_dir`; returns the paths written."""
    written = []
    for relative, text in sorted(terraform_files().items()):
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", type=Path, help="folder to write, e.g. deploy/terraform")
    args = parser.parse_args(argv)
    for path in render_terraform(args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
