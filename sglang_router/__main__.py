"""``python -m sglang_router``: the ``sglang-router`` command (see cli.py)."""

from sglang_router.cli import main

if __name__ == "__main__":
    main()
