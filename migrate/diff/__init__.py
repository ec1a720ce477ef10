"""`migrate diff`: prove (or disprove) that the Airflow DAGs do what Sundial did.

Library: :func:`migrate.diff.core.run_diff` -> :class:`migrate.diff.core.DiffResult`;
command: :data:`migrate.diff.command.diff_command`.
"""
