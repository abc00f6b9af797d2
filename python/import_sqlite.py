"""Entry point: copy the old SQLite file's rows into the migrated PostgreSQL schema (request JSON on stdin)."""

from pgsetup.importer.run import cli

if __name__ == "__main__":
    cli()
