"""Allow `python -m livemon …`."""

from livemon.cli import main

main()
