"""Entry point: the initial migration and upgrade (request JSON on stdin).

Where os.fork exists the process forks first, with only the standard library imported: the
child does the migration (python/pgsetup/migrate.py), the parent compiles the revision file the
child writes (python/pgsetup/compile_aside.py) and exits as the child does.
"""

import os
import sys

# The project folder (the working directory) comes before ours: env.py imports the app.
sys.path.insert(0, os.getcwd())

from pgsetup import compile_aside  # noqa: E402 (standard library only)

if __name__ == "__main__":
    compiler = compile_aside.start()  # the parent never returns from this
    from pgsetup.migrate import cli

    cli(compiler)
