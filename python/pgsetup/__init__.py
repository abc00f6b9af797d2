"""pg-setup's Python side: the project analyzer (never imports the app) and the migration driver.

Run with the project's own interpreter; the analyzer uses only the standard library, the
driver also SQLAlchemy and Alembic from the project.
"""
