"""Hand-written minimal equivalent of the generated spark-daily-aggregations DAG (same
operators, groups and edges; only required arguments), for bench/convert_bench.py."""

from airflow.providers.amazon.aws.operators.emr import EmrCreateJobFlowOperator
from airflow.providers.amazon.aws.sensors.emr import EmrJobFlowSensor
from airflow.sdk import DAG, CronTriggerTimetable, TaskGroup
from sundial_compat.outcome import SundialRunOutcomeOperator
from sundial_compat.shell import SundialShellOperator

with DAG(
    dag_id="handwritten_spark_daily_aggregations",
    schedule=CronTriggerTimetable("0 4 * * *", timezone="UTC"),
    catchup=False,
):
    with TaskGroup(group_id="aggregate_daily_revenue"):
        create = EmrCreateJobFlowOperator(
            task_id="create_job_flow", job_flow_overrides={"Name": "x"}
        )
        watch = EmrJobFlowSensor(task_id="watch_job_flow", job_flow_id=create.output)
    refresh = SundialShellOperator(task_id="refresh_redshift_views", script="true")
    outcome = SundialRunOutcomeOperator(
        task_id="sundial_run_outcome", process_name="x", trigger_rule="all_done"
    )
    create >> [watch, outcome]
    watch >> [refresh, outcome]
    refresh >> outcome
