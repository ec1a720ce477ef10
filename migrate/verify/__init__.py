"""`migrate verify`: the running Airflow, read through its REST API, against Sundial.

client.py   Airflow 3's public API (/api/v2): login, DAGs, import errors, runs
expect.py   what a DAG's next planned run must be, given its Sundial schedule
core.py     the checks per process (present, parsed, paused, next run)
render.py   a table for people, JSON for machines
command.py  the click command
"""
