"""``python -m service.cli.entry`` runs the ``newswire`` command (used for child processes)."""

from service.cli import main

if __name__ == "__main__":
    main()
