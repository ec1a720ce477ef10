"""The Airflow a convert writes for: one entry per Airflow 3 minor the DAGs are proven on.

Each entry says where the names the generated code imports live in that minor (the DAG
files are written against Airflow 3.3's public API, ``airflow.sdk``, and a name that an
older minor keeps elsewhere is imported from there), whether it has the exact per-try
retry policy (``airflow.sdk.RetryPolicy``, 3.3 only), and the versions the version matrix
(tests/matrix) proved it with: the latest patch of the minor and its providers, the pins
of ``requirements.txt`` and the ``Dockerfile``.  ``tests/matrix/test_locks.py`` holds the
pins to ``locks/``, the files the matrix installs from (``./dev lock`` renews them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migrate.ir import Ref

DEFAULT = "3.3"
AIRFLOW_CONSTRAINTS_URL = (
    "https://raw.githubusercontent.com/apache/airflow/constraints-{airflow}/"
    "constraints-{python}.txt"
)


@dataclass(frozen=True)
class AirflowTarget:
    """:param minor: ``"3.0"`` ... ``"3.3"``.
    :param airflow: the patch release proven (``apache-airflow==``).
    :param providers: distribution -> version proven with it.
    :param moved: ``(module, name)`` as Airflow 3.3 has it -> the module holding that name
        in this minor.
    :param retry_policy: ``airflow.sdk.RetryPolicy`` exists (an exact delay per try).
    :param mwaa_python: the Python of Amazon MWAA's image for this Airflow (its
        constraints file is the one for that Python).
    :param continuous_needs_start_date: its ``@continuous`` timetable starts no run of a
        DAG without a ``start_date`` (3.0 and 3.1).
    :param workarounds: distribution -> (version, why): a dependency this Airflow breaks
        on at today's release, pinned to one it works with (Airflow's constraints file
        for the release pins the same).
    """

    minor: str
    airflow: str
    providers: dict[str, str]
    moved: dict[tuple[str, str], str] = field(default_factory=dict)
    retry_policy: bool = False
    mwaa_python: str = "3.12"
    continuous_needs_start_date: bool = False
    workarounds: dict[str, tuple[str, str]] = field(default_factory=dict)

    def locate(self, ref: Ref) -> Ref:
        """``ref`` (written against 3.3) as this minor imports it."""
        module = self.moved.get((ref.module, ref.name))
        return ref if module is None else Ref(module, ref.name)

    @property
    def pins(self) -> dict[str, str]:
        """Every distribution requirements.txt pins, with its version."""
        return {
            "apache-airflow": self.airflow,
            **self.providers,
            **{name: version for name, (version, _) in self.workarounds.items()},
        }

    def constraints_url(self, python: str | None = None) -> str:
        """Airflow's constraints file for this release and Python (MWAA requires one)."""
        return AIRFLOW_CONSTRAINTS_URL.format(
            airflow=self.airflow, python=python or self.mwaa_python
        )

    @property
    def label(self) -> str:
        return f"Airflow {self.minor} (proven on {self.airflow})"


def _providers(amazon: str, standard: str, smtp: str, pagerduty: str) -> dict[str, str]:
    return {
        "apache-airflow-providers-amazon": amazon,
        "apache-airflow-providers-pagerduty": pagerduty,
        "apache-airflow-providers-smtp": smtp,
        "apache-airflow-providers-standard": standard,
    }


# Before 3.2, airflow.sdk exports no timetables; before 3.1, no TriggerRule.
_TIMETABLE_IN_CORE = {
    ("airflow.sdk", "CronTriggerTimetable"): "airflow.timetables.trigger"
}

TARGETS: dict[str, AirflowTarget] = {
    "3.0": AirflowTarget(
        "3.0",
        "3.0.6",
        _providers("9.12.0", "1.6.0", "2.2.0", "5.0.2"),
        moved={
            **_TIMETABLE_IN_CORE,
            ("airflow.sdk", "TriggerRule"): "airflow.utils.trigger_rule",
        },
        continuous_needs_start_date=True,
        workarounds={
            "PyJWT": (
                "2.10.1",
                "with PyJWT 2.11+ Airflow 3.0.6's api-server logs no one in "
                "(TypeError: Issuer (iss) must be a string)",
            )
        },
    ),
    "3.1": AirflowTarget(
        "3.1",
        "3.1.8",
        _providers("9.22.0", "1.12.0", "2.4.2", "5.2.3"),
        moved=_TIMETABLE_IN_CORE,
        continuous_needs_start_date=True,
    ),
    "3.2": AirflowTarget(
        "3.2", "3.2.2", _providers("9.29.0", "1.13.1", "3.0.1", "5.2.5")
    ),
    "3.3": AirflowTarget(
        "3.3",
        "3.3.2",
        _providers("9.39.0", "1.21.0", "3.2.0", "5.3.1"),
        retry_policy=True,
    ),
}
MINORS = tuple(TARGETS)


class UnknownTarget(ValueError):
    pass


def target(minor: str | None) -> AirflowTarget:
    """The entry for ``minor`` (``"3.1"``, or a full version such as ``"3.1.8"``)."""
    key = DEFAULT if minor is None else ".".join(str(minor).split(".")[:2])
    found = TARGETS.get(key)
    if found is None:
        raise UnknownTarget(
            f"Airflow {minor!r} is not a version sundial-migrate writes for: choose one "
            f"of {', '.join(MINORS)}"
        )
    return found
