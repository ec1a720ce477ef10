"""`migrate deploy`: mirror DIR/dags/ to where Airflow reads it (an S3 DAG bundle, a
folder, or an Amazon MWAA environment's bucket), touching only what changed and never
what the tool did not put there.

    mirror.py   the local files, the plan (upload / delete / keep / refuse), its execution
    s3.py       the S3 target (boto3): objects, ownership metadata, the manifest object
    folder.py   the folder target (a local or shared path)
    mwaa.py     the MWAA layout: dags/, a reproducible plugins.zip, requirements.txt
    bundle.py   the `dag_bundle_config_list` entry to paste into Airflow's configuration
    command.py  the click command
"""
