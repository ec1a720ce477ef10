"""Hand-written minimal equivalent of the generated spark-daily-aggregations DAG, as a
person would write it with Airflow's own operators: one per Sundial task, the job flow as
a Python literal, no helper task; for bench/convert_bench.py."""

from datetime import timedelta

from airflow.providers.amazon.aws.operators.emr import EmrCreateJobFlowOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, CronTriggerTimetable

with DAG(
    dag_id="handwritten_spark_daily_aggregations",
    schedule=CronTriggerTimetable("45 3 * * *", timezone="UTC"),
    catchup=False,
    max_active_runs=1,
):
    flow = EmrCreateJobFlowOperator(
        task_id="aggregate_daily_revenue",
        job_flow_overrides={
            "Name": "sundial-spark-daily-aggregations",
            "ReleaseLabel": "emr-5.20.0",
            "LogUri": "s3://acme-emr-logs/sundial/spark-daily-aggregations/",
            "Applications": [{"Name": "Hadoop"}, {"Name": "Spark"}],
            "ServiceRole": "acme-emr-service-role",
            "JobFlowRole": "EMR_EC2_DefaultRole",
            "Instances": {
                "KeepJobFlowAliveWhenNoSteps": False,
                "InstanceGroups": [
                    {
                        "InstanceRole": "MASTER",
                        "Market": "ON_DEMAND",
                        "InstanceType": "m5.xlarge",
                        "InstanceCount": 1,
                    }
                ],
            },
            "Steps": [
                {
                    "Name": "daily-revenue",
                    "ActionOnFailure": "TERMINATE_CLUSTER",
                    "HadoopJarStep": {
                        "Jar": "command-runner.jar",
                        "Args": [
                            "spark-submit",
                            "--class",
                            "com.acme.Revenue",
                            "s3://j",
                        ],
                    },
                }
            ],
        },
        aws_conn_id="aws_default",
        region_name="us-east-1",
        retries=1,
        retry_delay=timedelta(seconds=300),
        execution_timeout=timedelta(seconds=14400),
    )
    views = BashOperator(
        task_id="refresh_redshift_views", bash_command="true", retries=2
    )
    flow >> views
