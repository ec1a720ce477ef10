"""Hand-written minimal equivalent of the generated regional-sales-loads DAG (same
operators, groups and edges; only required arguments), for bench/convert_bench.py."""

from airflow.providers.amazon.aws.operators.batch import BatchOperator
from airflow.sdk import DAG, CronTriggerTimetable, TaskGroup
from sundial_compat.batch import SundialBatchJobDefinitionOperator
from sundial_compat.outcome import (
    SundialOptionalUpstreamsOperator,
    SundialRunOutcomeOperator,
)
from sundial_compat.shell import SundialShellOperator

with DAG(
    dag_id="handwritten_regional_sales_loads",
    schedule=CronTriggerTimetable("0 6 * * 1-5", timezone="UTC"),
    catchup=False,
):
    units = {}
    for name in ("extract_sales", "load_us", "load_eu", "load_apac", "merge_global"):
        with TaskGroup(group_id=name):
            register = SundialBatchJobDefinitionOperator(
                task_id="register_job_definition", job_definition={}
            )
            submit = BatchOperator(
                task_id="submit_job", job_name=name, job_definition=name, job_queue="q"
            )
            register >> submit
            units[name] = (register, submit)
    fx = SundialShellOperator(task_id="fx-rates_refresh", script="true")
    publish = SundialShellOperator(task_id="publish_dashboard", script="true")
    join = SundialOptionalUpstreamsOperator(
        task_id="merge_global__optional_upstreams",
        upstream_entries={},
        trigger_rule="all_done",
    )
    outcome = SundialRunOutcomeOperator(
        task_id="sundial_run_outcome", process_name="x", trigger_rule="all_done"
    )
    units["extract_sales"][1] >> [
        units["load_us"][0],
        units["load_eu"][0],
        units["load_apac"][0],
    ]
    units["load_us"][1] >> units["merge_global"][0]
    units["load_eu"][1] >> units["merge_global"][0]
    [units["load_apac"][1], fx] >> join >> units["merge_global"][0]
    units["merge_global"][1] >> publish
    [*(t for pair in units.values() for t in pair), fx, publish, join] >> outcome
