"""Typed Sundial process definitions, as the REST API (any of its three generations) describes them.

The model is the single input of the mapping stage.  Every object remembers which source
fields it was read from (``present_fields`` on the process), so that the report can prove
that each one was either mapped or reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

# Field defaults Sundial's service applied, from its apibuilder API specs.
DEFAULT_EMR_SERVICE_ROLE = "EMR_DefaultRole"
DEFAULT_EMR_JOB_FLOW_ROLE = "EMR_EC2_DefaultRole"
DEFAULT_PAGERDUTY_API_URL = "https://events.pagerduty.com"

NOTIFY_WHEN_VALUES = (
    "always",
    "on_failure",
    "on_state_change",
    "on_state_change_and_failures",
    "never",
)

GENERATIONS = ("2016-02", "2018-12", "2019-07")


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str


@dataclass(frozen=True)
class CronSchedule:
    minutes: str
    hours: str
    day_of_month: str
    month: str
    day_of_week: str

    def quartz_expression(self) -> str:
        """The exact string Sundial handed to Quartz (seconds fixed at 0)."""
        return " ".join(
            (
                "0",
                self.minutes,
                self.hours,
                self.day_of_month,
                self.month,
                self.day_of_week,
            )
        )


@dataclass(frozen=True)
class ContinuousSchedule:
    buffer_seconds: int | None  # Sundial read a missing value as 0


Schedule = Union[CronSchedule, ContinuousSchedule]


@dataclass(frozen=True)
class ShellCommand:
    script: str
    env: tuple[EnvVar, ...] = ()


@dataclass(frozen=True)
class BatchCommand:
    image: str
    tag: str
    command: tuple[str, ...]
    memory: int
    vcpus: int
    job_role_arn: str | None = None
    env: tuple[EnvVar, ...] = ()
    job_queue: str | None = None


@dataclass(frozen=True)
class DockerCommand:
    """``docker_image_command``: a container on ECS (2016-02 and 2018-12 only)."""

    image: str
    tag: str
    command: tuple[str, ...]
    memory: int | None = None
    cpu: int | None = None
    task_role_arn: str | None = None
    log_paths: tuple[str, ...] = ()
    env: tuple[EnvVar, ...] = ()


@dataclass(frozen=True)
class EmrInstanceGroup:
    instance_type: str
    instance_count: int
    market: str  # "ON_DEMAND" | "SPOT"
    bid_price: str | None = None  # decimal kept as its exact text
    ebs_volume_size: int | None = None


@dataclass(frozen=True)
class EmrConfiguration:
    classification: str | None
    properties: tuple[tuple[str, str], ...]
    configurations: tuple["EmrConfiguration", ...]


@dataclass(frozen=True)
class NewEmrCluster:
    name: str
    release_label: str
    applications: tuple[str, ...]
    s3_log_uri: str
    master: EmrInstanceGroup
    core: EmrInstanceGroup | None
    task: EmrInstanceGroup | None
    ec2_subnet: str | None
    service_role: str
    job_flow_role: str
    visible_to_all_users: bool
    configurations: tuple[EmrConfiguration, ...]
    security_configuration: str | None


@dataclass(frozen=True)
class ExistingEmrCluster:
    cluster_id: str


@dataclass(frozen=True)
class S3Copy:
    source: str
    destination: str


@dataclass(frozen=True)
class MavenPackage:
    group_id: str
    artifact_id: str
    version: str

    def coordinate(self) -> str:
        return f"{self.group_id}:{self.artifact_id}:{self.version}"


@dataclass(frozen=True)
class EmrCommand:
    cluster: NewEmrCluster | ExistingEmrCluster
    job_name: str
    region: str
    main_class: str
    s3_jar_path: str
    spark_conf: tuple[str, ...]
    spark_packages: tuple[MavenPackage, ...]
    args: tuple[str, ...]
    s3_log_details: tuple[str, str] | None  # (log_group_name, log_stream_name)
    load_data: tuple[S3Copy, ...]
    save_results: tuple[S3Copy, ...]


Executable = Union[ShellCommand, BatchCommand, DockerCommand, EmrCommand]

EXECUTABLE_KINDS = {
    ShellCommand: "shell_script_command",
    BatchCommand: "batch_image_command",
    DockerCommand: "docker_image_command",
    EmrCommand: "emr_command",
}


@dataclass(frozen=True)
class Dependency:
    task_name: str
    success_required: bool


@dataclass(frozen=True)
class TaskDefinition:
    name: str
    dependencies: tuple[Dependency, ...]
    executable: Executable
    max_attempts: int
    max_runtime_seconds: int | None
    backoff_base_seconds: int
    backoff_exponent: float
    require_explicit_success: bool

    @property
    def kind(self) -> str:
        return EXECUTABLE_KINDS[type(self.executable)]


@dataclass(frozen=True)
class EmailNotification:
    name: str
    email: str
    notify_when: str
    legacy_subscription: bool = (
        False  # 2016-02 ``subscriptions`` entry (notify_when implied)
    )


@dataclass(frozen=True)
class PagerDutyNotification:
    service_key: str
    num_consecutive_failures: int
    api_url: str


Notification = Union[EmailNotification, PagerDutyNotification]


@dataclass(frozen=True)
class SourceRef:
    """Where a definition came from: a file and, for a file holding a list, its position."""

    file: str
    index: int | None = None

    def __str__(self) -> str:
        return self.file if self.index is None else f"{self.file}[{self.index}]"


@dataclass(frozen=True)
class ProcessDefinition:
    name: str
    description: str | None
    paused: bool | None
    schedule: Schedule | None
    tasks: tuple[TaskDefinition, ...]
    overlap_action: str
    notifications: tuple[Notification, ...]
    source: SourceRef
    generations: tuple[str, ...]
    # Every field path present in the source (see migrate.sundial.paths), for the report.
    present_fields: tuple[str, ...] = ()
    # Fields no generation of the API knows: (path, value) kept for the report.
    unknown_fields: tuple[tuple[str, object], ...] = ()
    # Dependencies listed twice (once required, once optional), the signature of
    # Sundial's API read-back bug: names of (task, upstream).
    doubled_dependencies: tuple[tuple[str, str], ...] = field(default=())

    def task(self, name: str) -> TaskDefinition:
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(name)
