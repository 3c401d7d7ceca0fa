"""``python -m bheard.cli``: the same as the ``bheard`` command."""

from bheard.cli import main

main()
