"""The entry-point registry: a name two installed packages both claim is refused, naming both."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinyperf.core.errors import TinyperfError
from tinyperf.core.registry import Broken, Registry


def _installed(site: Path, name: str, entry_points: str) -> None:
    """What pip leaves in site-packages for a distribution: its dist-info with metadata and entry points."""
    info = site / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_a_name_registered_twice_is_refused_naming_both(tmp_path: Path, monkeypatch) -> None:
    _installed(tmp_path, "one", "[tinyperf.test_group]\nthing = one_pkg:Thing\nsolo = one_pkg:Solo\n")
    _installed(tmp_path, "two", "[tinyperf.test_group]\nthing = two_pkg:Thing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg: Registry[object] = Registry("tinyperf.test_group", "widget")
    assert reg.names() == ["solo", "thing"]
    assert reg.clashes() == {"thing": ["one_pkg:Thing", "two_pkg:Thing"]} or \
        sorted(reg.clashes()["thing"]) == ["one_pkg:Thing", "two_pkg:Thing"]
    with pytest.raises(TinyperfError) as err:
        reg.load("thing")
    assert "one_pkg:Thing" in err.value.one_line() and "two_pkg:Thing" in err.value.one_line()
    loaded = reg.load_all()
    assert isinstance(loaded["thing"], Broken) and "registered by two packages" in loaded["thing"].reason
    assert isinstance(loaded["solo"], Broken) and "failed to import" in loaded["solo"].reason  # named, not fatal
