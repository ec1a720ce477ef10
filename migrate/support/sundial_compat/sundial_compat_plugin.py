"""Registers sundial-migrate's timetable with Airflow.

Airflow's plugins manager imports this file by path (as a top-level module) from the
plugins folder; everything else in ``sundial_compat/`` is imported as a package by the DAG
files (``sundial_compat/.airflowignore`` keeps the plugins manager away from it).  The
class registered here must be the one the DAG files use, so it is imported through the
package, never defined here.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from sundial_compat.timetable import QuartzTimetable


class SundialCompatPlugin(AirflowPlugin):
    name = "sundial_compat"
    timetables = [QuartzTimetable]
