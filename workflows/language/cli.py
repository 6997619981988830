"""The body of ``crm workflows validate PATH...`` (wired into the CLI by `app.cli`)."""

from __future__ import annotations

from typing import TextIO

from .validate import expand_paths, validate_paths

__all__ = ["main_validate"]


def main_validate(paths: list[str], out: TextIO) -> int:
    """Validate `paths` (files and folders), print one problem per line to `out` as
    ``file:line:col: path: message``; return 1 if there is any problem, else 0 after printing
    ``N files OK``."""
    if not paths:
        print("no files or folders given", file=out)
        return 1
    _, problems = validate_paths(paths)
    for problem in problems:
        print(problem, file=out)
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        print(f"{len(problems)} {noun}", file=out)
        return 1
    files, _ = expand_paths(paths)
    print(f"{len(files)} {'file' if len(files) == 1 else 'files'} OK", file=out)
    return 0
