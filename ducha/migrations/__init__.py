"""Alembic environment shipped inside the package, so no alembic.ini is needed in cwd."""
