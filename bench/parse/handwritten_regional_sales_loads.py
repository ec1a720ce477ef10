"""Hand-written minimal equivalent of the generated regional-sales-loads DAG, as a person
would write it with Airflow's own operators: one per Sundial task (BatchOperator,
BashOperator), the same edges and trigger rules, no helper task; for bench/convert_bench.py
(bench/parse/baseline.py writes the same kind of file for a whole estate)."""

from datetime import timedelta

from airflow.providers.amazon.aws.operators.batch import BatchOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, CronTriggerTimetable

with DAG(
    dag_id="handwritten_regional_sales_loads",
    schedule=CronTriggerTimetable("0 6 * * 1-5", timezone="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"aws_conn_id": "aws_default", "region_name": "us-east-1"},
):
    jobs = {
        name: BatchOperator(
            task_id=name,
            job_name=name,
            job_definition=name,
            job_queue="sundial-job-queue",
            container_overrides={"command": command},
            retries=2,
            retry_delay=timedelta(seconds=30),
        )
        for name, command in (
            ("extract_sales", ["extract", "--regions", "us,eu,apac"]),
            ("load_us", ["load", "--region", "us"]),
            ("load_eu", ["load", "--region", "eu"]),
            ("load_apac", ["load", "--region", "apac"]),
            ("merge_global", ["merge", "--allow-missing", "apac"]),
        )
    }
    jobs["merge_global"].trigger_rule = "all_done"
    fx = BashOperator(task_id="fx-rates_refresh", bash_command="true", retries=4)
    publish = BashOperator(task_id="publish_dashboard", bash_command="true", retries=2)
    jobs["extract_sales"] >> [jobs["load_us"], jobs["load_eu"], jobs["load_apac"]]
    [jobs["load_us"], jobs["load_eu"], jobs["load_apac"], fx] >> jobs["merge_global"]
    jobs["merge_global"] >> publish
