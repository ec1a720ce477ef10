"""Schedules: Quartz cron as Sundial evaluated it, and its Airflow translation."""
