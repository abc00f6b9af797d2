"""Alembic migration environment for the app's SQLAlchemy engine (written by pg-setup).

The shape of `alembic init`'s generic template: the app is sync, and so is this file. The URL
comes from the app's settings, so alembic.ini holds no credentials; the models are imported so
that autogenerate sees every table.
"""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

{{IMPORTS}}

config = context.config

if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# alembic.ini is read by configparser, where % starts an interpolation: double it.
config.set_main_option("sqlalchemy.url", {{URL_EXPR}}.replace("%", "%%"))

target_metadata = {{METADATA_EXPR}}


def run_migrations_offline() -> None:
    """Emit SQL to stdout (alembic upgrade --sql) without a database connection."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # A caller that already holds a connection (tests, scripts) passes it in config.attributes.
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        do_run_migrations(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
