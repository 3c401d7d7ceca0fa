"""``bheard data build``: rebuild the shipped data files from the raw public data."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def data_build(
    source: Optional[Path] = typer.Option(None, help="Folder with the raw public files listed in data/SOURCES.md (default: a shared/data folder beside the checkout, if any)."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default: the shipped data/)."),
):
    """Rebuild the shipped data files from the raw public data."""
    from bheard.data.__main__ import main as build_main

    argv = ["build"] + (["--source", str(source)] if source else []) + (["--out", str(out)] if out else [])
    raise typer.Exit(build_main(argv))
