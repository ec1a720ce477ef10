"""The history comparison judges Sundial and Airflow over the same span."""

from migrate.diff.history import compare_history

HOUR = 3_600_000


def test_the_first_runs_own_fire_is_not_an_airflow_extra():
    since = 100 * HOUR  # the fire the first recorded run answered
    quartz = (110 * HOUR, 120 * HOUR)  # fires after it
    airflow = (since, 110 * HOUR, 120 * HOUR)  # Airflow's list includes the boundary
    runs = [105 * HOUR, 110 * HOUR + 5_000, 120 * HOUR + 5_000]
    result = compare_history(runs, quartz, airflow, since)
    assert result.airflow_extra == []
    assert not result.differs


def test_a_real_extra_airflow_run_is_found():
    since = 100 * HOUR
    quartz = (110 * HOUR, 120 * HOUR)
    airflow = (since, 110 * HOUR, 115 * HOUR, 120 * HOUR)
    result = compare_history(
        [110 * HOUR + 5_000, 120 * HOUR + 5_000], quartz, airflow, since
    )
    assert result.airflow_extra == [115 * HOUR]
    assert result.differs
