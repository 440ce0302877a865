"""The quick start of docs/realtime.md, read and applied as a reader would.

Each block the fresh-project test applies is marked in the docs with
``<!-- fresh-project: NAME -->``; the next fenced block is that step. Taking
them from the docs keeps the docs and the test from drifting apart.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "realtime.md"
STEPS = ("models", "settings", "asgi", "urls", "app", "redis")

_MARKER = re.compile(r"<!--\s*fresh-project:\s*([a-z-]+)\s*-->")
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)


def snippets(path: Path = DOCS) -> dict[str, str]:
    """Each marked step's code, by name; every step marked exactly once."""
    text = path.read_text()
    found: dict[str, str] = {}
    for marker in _MARKER.finditer(text):
        name = marker.group(1)
        assert name not in found, f"{path.name} marks {name!r} twice"
        fence = _FENCE.search(text, marker.end())
        assert fence, f"no fenced block follows {marker.group(0)} in {path.name}"
        found[name] = fence.group(1)
    missing = set(STEPS) - set(found)
    assert not missing, f"{path.name} has no block marked {sorted(missing)}"
    return found


def code_lines(snippet: str) -> list[str]:
    """The lines that do something: no blanks, no comments."""
    return [
        line
        for line in snippet.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def replace_import(source: str, snippet: str) -> str:
    """``source`` with the import of the snippet's one name swapped for its own.

    The asgi step changes one line of startproject's file: the import of
    ``get_asgi_application`` comes from ``realtime`` instead of Django.
    """
    (line,) = code_lines(snippet)
    name = line.rsplit(" import ", 1)[1].strip()
    pattern = re.compile(rf"^from \S+ import {re.escape(name)}$", re.MULTILINE)
    assert len(pattern.findall(source)) == 1, f"one import of {name} expected"
    return pattern.sub(line.strip(), source)


def shared_layer(snippet: str, redis_url: str, prefix: str) -> str:
    """The Redis layer step, on this machine's Redis and a prefix of its own."""
    snippet, hosts = re.subn(r'"redis://[^"]*"', f'"{redis_url}"', snippet)
    snippet, prefixes = re.subn(
        r'"prefix":\s*"[^"]*"', f'"prefix": "{prefix}"', snippet
    )
    assert hosts == 1 and prefixes == 1, "the Redis block names one host, one prefix"
    return snippet


def apply(project: Path, steps: dict[str, str], redis_url: str, prefix: str) -> None:
    """Make startproject's ``mysite`` and startapp's ``notes`` live, as documented."""
    package = project / "mysite"
    (project / "notes" / "models.py").write_text(steps["models"])
    (project / "notes" / "realtime.py").write_text(steps["app"])
    settings = package / "settings.py"
    settings.write_text(
        settings.read_text()
        + "\n"
        + steps["settings"]
        + "\n"
        + shared_layer(steps["redis"], redis_url, prefix)
    )
    asgi = package / "asgi.py"
    asgi.write_text(replace_import(asgi.read_text(), steps["asgi"]))
    urls = package / "urls.py"
    urls.write_text(urls.read_text() + "\n" + steps["urls"])
