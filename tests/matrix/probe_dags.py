"""Run inside one Airflow of the version matrix (its own virtualenv, not the tests'):
load a DAG folder as the DAG processor does, serialize every DAG, read it back as the
scheduler does, and step each timetable for the first N runs.

    python probe_dags.py DAGS_FOLDER START_ISO N

Prints one JSON object: import errors, and per DAG its timetable's class and summary,
the run times (epoch ms) from START on, catchup on, as the scheduler would plan them, and
whether the scheduler plans a first run at all given the DAG's own start_date, end_date
and catchup (an ``@continuous`` DAG with no start_date gets none on 3.0 and 3.1).
Nothing here may import sundial-migrate: only what that Airflow has.
"""

import json
import sys
from datetime import datetime

import pendulum


def dagbag_class():
    try:  # Airflow >= 3.2
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:
        from airflow.models.dagbag import DagBag
    return DagBag


def serializer():
    from airflow.serialization import serialized_objects

    # DagSerialization from 3.3, SerializedDAG before
    return getattr(serialized_objects, "DagSerialization", None) or getattr(
        serialized_objects, "SerializedDAG"
    )


def runs(timetable, start, count):
    from airflow.timetables.base import TimeRestriction

    restriction = TimeRestriction(earliest=start, latest=None, catchup=True)
    out, info = [], None
    stepper = getattr(timetable, "next_dagrun_info_v2", None)
    while len(out) < count:
        if stepper is not None:  # the scheduler's call from 3.2 on
            info = stepper(last_dagrun_info=info, restriction=restriction)
        else:
            info = timetable.next_dagrun_info(
                last_automated_data_interval=info and info.data_interval,
                restriction=restriction,
            )
        if info is None:
            break
        out.append(int(info.run_after.timestamp() * 1000))
    return out


def first_run_planned(dag, timetable) -> bool:
    """The scheduler's first step: no previous run, the DAG's own time restriction."""
    from airflow.timetables.base import TimeRestriction

    restriction = TimeRestriction(
        earliest=dag.start_date, latest=dag.end_date, catchup=dag.catchup
    )
    stepper = getattr(timetable, "next_dagrun_info_v2", None)
    if stepper is not None:
        info = stepper(last_dagrun_info=None, restriction=restriction)
    else:
        info = timetable.next_dagrun_info(
            last_automated_data_interval=None, restriction=restriction
        )
    return info is not None


def main():
    folder, start, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    start = pendulum.instance(datetime.fromisoformat(start))
    import airflow

    bag = dagbag_class()(dag_folder=folder, safe_mode=False)
    ser = serializer()
    dags = {}
    for dag_id, dag in sorted(bag.dags.items()):
        data = ser.to_dict(dag)  # what the DAG processor stores; fails if unregistered
        back = ser.from_dict(data)  # what the scheduler reads
        timetable = back.timetable
        dags[dag_id] = {
            "timetable": type(timetable).__name__,
            "summary": timetable.summary,
            "runs": runs(timetable, start, count),
            "first_run_planned": first_run_planned(back, timetable),
            "tasks": len(back.tasks),
            "paused_upon_creation": dag.is_paused_upon_creation,
        }
    print(
        json.dumps(
            {
                "airflow": airflow.__version__,
                "import_errors": {k: v[-2000:] for k, v in bag.import_errors.items()},
                "dags": dags,
            }
        )
    )


if __name__ == "__main__":
    main()
