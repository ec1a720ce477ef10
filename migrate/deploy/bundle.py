"""The `dag_bundle_config_list` entry that points Airflow at a deployed target.

Airflow 3 reads DAG files from the bundles listed in ``[dag_processor]
dag_bundle_config_list`` (environment: ``AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST``),
a JSON list of ``{"name", "classpath", "kwargs"}``.
"""

from __future__ import annotations

import json

S3_BUNDLE = "airflow.providers.amazon.aws.bundles.s3.S3DagBundle"
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
DEFAULT_NAME = "sundial"
DEFAULT_AWS_CONN_ID = "aws_default"


def s3_bundle(
    bucket: str,
    prefix: str,
    name: str = DEFAULT_NAME,
    aws_conn_id: str = DEFAULT_AWS_CONN_ID,
) -> dict:
    return {
        "name": name,
        "classpath": S3_BUNDLE,
        "kwargs": {"bucket_name": bucket, "prefix": prefix, "aws_conn_id": aws_conn_id},
    }


def local_bundle(path: str, name: str = DEFAULT_NAME) -> dict:
    return {"name": name, "classpath": LOCAL_BUNDLE, "kwargs": {"path": path}}


def config_json(entry: dict) -> str:
    """The value of dag_bundle_config_list with this one bundle (add it to an existing
    list if Airflow has other bundles)."""
    return json.dumps([entry], ensure_ascii=False)
