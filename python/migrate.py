"""Entry point: the initial migration and upgrade in one process (request JSON on stdin)."""

import os
import sys

# The project folder (the working directory) comes before ours: env.py imports the app.
sys.path.insert(0, os.getcwd())

from pgsetup.migrate import cli  # noqa: E402

if __name__ == "__main__":
    cli()
