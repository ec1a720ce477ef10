"""Sundial's retry backoff, exactly: wait ``base * exponent ** n`` seconds after attempt n."""

from __future__ import annotations

from datetime import timedelta

from sundial_compat.airflow_api import RetryDecision, RetryPolicy


def sundial_delay(base_seconds: float, exponent: float, attempts_so_far: int) -> int:
    """Sundial's ``(seconds * Math.pow(exponent, previousAttempts)).toLong``."""
    return int(base_seconds * exponent**attempts_so_far)


class SundialBackoff(RetryPolicy or object):
    """An ``airflow.sdk.RetryPolicy`` (Airflow 3.3 on).  DAGs written for an older Airflow
    do not use it: their operators wait out the backoff themselves (``task.py``)."""

    def __init__(self, base_seconds: float, exponent: float) -> None:
        if RetryPolicy is None:
            raise RuntimeError(
                "SundialBackoff needs Airflow 3.3 (airflow.sdk.RetryPolicy): this DAG was "
                "converted for another Airflow; convert again with --airflow-version"
            )
        self.base_seconds = base_seconds
        self.exponent = exponent

    def evaluate(self, exception, try_number, max_tries, context=None) -> RetryDecision:
        # try_number is the attempt that just failed (1-based): Sundial's attempt count.
        delay = sundial_delay(self.base_seconds, self.exponent, try_number)
        return RetryDecision.retry(
            delay=timedelta(seconds=delay),
            reason=f"Sundial backoff: {self.base_seconds} * {self.exponent} ** {try_number} = {delay} s",
        )

    def serialize(self) -> dict:
        return {"base_seconds": self.base_seconds, "exponent": self.exponent}

    @classmethod
    def deserialize(cls, data: dict) -> "SundialBackoff":
        return cls(data["base_seconds"], data["exponent"])
