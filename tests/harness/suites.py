"""Small synthetic catalogues and suites for the harness's own tests."""

from __future__ import annotations

from pathlib import Path

__all__ = ["CATALOGUE", "REQUIREMENT_ENTRY", "write_catalogue"]

# One [[requirement]] of a synthetic catalogue, to format with its five fields.
REQUIREMENT_ENTRY = """
[[requirement]]
id = "{id}"
area = "{area}"
endpoint = "{endpoint}"
level = "{level}"
origin = "qubittron"
statement = "{statement}"
source = "getting-started.txt"
quote = "a quote"
optional = false
"""

CATALOGUE = (
    ("AUTH-001", "auth", "all", "MUST", "A missing key is rejected with 401."),
    ("AUTH-002", "auth", "all", "SHOULD", "A SHOULD-level auth statement."),
    ("AUTH-003", "auth", "all", "MUST", "Another MUST statement."),
    ("SSE-001", "streaming", "chat", "MUST", "Streams end with [DONE]."),
    ("SSE-002", "streaming", "chat", "SHOULD", "Streams carry keep-alives."),
    ("IMG-001", "images", "images", "MUST", "Images decode."),
)


def write_catalogue(folder: Path) -> Path:
    """Write the synthetic catalogue to ``folder/requirements.toml``."""
    text = "".join(
        REQUIREMENT_ENTRY.format(id=i, area=a, endpoint=e, level=lv, statement=s)
        for i, a, e, lv, s in CATALOGUE
    )
    path = folder / "requirements.toml"
    path.write_text(text, encoding="utf-8")
    return path
