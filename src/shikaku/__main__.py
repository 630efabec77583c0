"""`python -m shikaku` is the `shikaku` command."""

from shikaku.cli import main

main()
