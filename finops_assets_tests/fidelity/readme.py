"""The README's "FOCUS fidelity: <provider>" sections, for the tests that pin them."""

from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def fidelity_section(provider: str) -> str:
    """The text of README's '### FOCUS fidelity: <provider>' section (up to the next heading)."""
    text = README.read_text(encoding="utf-8")
    marker = f"### FOCUS fidelity: {provider}"
    assert marker in text, marker
    return text.split(marker, 1)[1].split("\n#", 1)[0]
