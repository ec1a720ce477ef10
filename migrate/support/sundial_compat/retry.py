"""Sundial's retry backoff, exactly: wait ``base * exponent ** n`` seconds after attempt n."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import RetryDecision, RetryPolicy


def sundial_delay(base_seconds: float, exponent: float, attempts_so_far: int) -> int:
    """Sundial's ``(seconds * Math.pow(exponent, previousAttempts)).toLong``."""
    return int(base_seconds * exponent**attempts_so_far)


class SundialBackoff(RetryPolicy):
    def __init__(self, base_seconds: float, exponent: float) -> None:
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
