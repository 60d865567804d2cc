"""The run's progress lines fit an 80-column console without cutting a count."""

from __future__ import annotations

from rich.progress import Progress

from tinyperf.core.progress import run_progress
from tests.harness.cli_helpers import rendered


def _tasks(progress: Progress) -> None:
    for description, total, done in (("kws01 performance (5 windows >= 10 s)", 5, 5), ("ad01 accuracy", 48608, 48608),
                                      ("ad01 accuracy", 48608, 123)):
        progress.update(progress.add_task(description, total=total), completed=done)


def test_counts_are_whole_at_80_columns() -> None:
    progress = run_progress()
    _tasks(progress)
    text = rendered(progress.get_renderable(), width=80)
    assert "48608/48608" in text and "123/48608" in text and "5/5" in text
    assert "ad01 accuracy" in text and "kws01 performance" in text  # the parenthesis is dropped first
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80


def test_wide_console_shows_the_whole_description() -> None:
    progress = run_progress()
    _tasks(progress)
    assert "kws01 performance (5 windows >= 10 s)" in rendered(progress.get_renderable(), width=200)


def test_narrow_console_still_keeps_counts() -> None:
    progress = run_progress()
    _tasks(progress)
    text = rendered(progress.get_renderable(), width=56)
    assert "48608/48608" in text and "123/48608" in text


def test_a_live_status_is_asked_at_each_refresh_and_shown_after_the_description() -> None:
    progress = run_progress()
    trouble: list[str | None] = [None]
    progress.update(progress.add_task("kws01 performance (5 windows >= 10 s)", total=5, status=lambda: trouble[0]),
                    completed=0)
    assert "link" not in rendered(progress.get_renderable(), width=80)
    trouble[0] = "12 link errors, 3 retries"
    text = rendered(progress.get_renderable(), width=200)
    assert "kws01 performance (5 windows >= 10 s) · 12 link errors, 3 retries" in text and "0/5" in text
    text = rendered(progress.get_renderable(), width=80)
    assert "0/5" in text and "kws01 performance · 12 link" in text  # the parenthesis goes first, the count stays
