"""sundial-migrate: move a Sundial batch-job estate onto Apache Airflow 3."""

__version__ = "0.1.0"
