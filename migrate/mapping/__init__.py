"""Mapping rules: user-editable YAML that decides Airflow-side names and settings."""
