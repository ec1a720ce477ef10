"""Hypothesis strategies for valid Sundial process definitions in the API wire shape.

Every API generation (2016-02 docker/shell with subscriptions, 2018-12 with Batch, EMR and
notifications, 2019-07 without ECS), every executable, and every optional field either
present or left out, as Sundial's clients wrote them.  Used wherever a property must hold
for any definition: the stored form and the database path, input order, injection.
"""

from __future__ import annotations

import copy

from hypothesis import strategies as st

NAME_CHARS = "abcxyz019 ._-é日"
names = st.text(NAME_CHARS, min_size=1, max_size=10).filter(lambda s: s.strip())
# No NUL: PostgreSQL (text and jsonb) refuses it, so no Sundial ever stored one.
texts = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
nonempty = st.text("abcdefghij-_/:0123456789", min_size=1, max_size=12)

CRONS = [
    ("0", "5", "?", "*", "MON-FRI"),
    ("*/10", "*", "*", "*", "?"),
    ("30", "2", "*", "*", "?"),
    ("0", "8", "L", "*", "?"),
    ("15", "6", "?", "*", "2#1"),
    ("0", "22-2", "?", "*", "1,7"),
    ("0", "0", "LW", "*", "?"),
]
CRON_FIELDS = ("minutes", "hours", "day_of_month", "month", "day_of_week")
RELEASE_LABELS = ["emr-5.20.0", "emr-5.10.0", "emr-4.9.2"]
APPLICATIONS = ["Hadoop", "Hive", "Spark", "Ganglia"]
NOTIFY_WHEN = ["always", "never", "on_failure", "on_state_change_and_failures"]
GENERATIONS = ("2016-02", "2018-12", "2019-07")


def optional(draw, data: dict, key: str, strategy) -> None:
    """Put ``key`` into ``data`` or leave it out, as a client may."""
    if draw(st.booleans()):
        data[key] = draw(strategy)


def env_vars(max_size: int = 3):
    return st.lists(
        st.fixed_dictionaries(
            {
                "variable_name": st.sampled_from(
                    ["A", "B_C", "DB_PASSWORD", "x.y", "PATH_2"]
                ),
                "value": texts,
            }
        ),
        max_size=max_size,
        unique_by=lambda e: e["variable_name"],
    )


@st.composite
def shell(draw, generation: str) -> dict:
    body = {"script": draw(texts)}
    optional(draw, body, "environment_variables", env_vars())
    return {"shell_script_command": body}


@st.composite
def docker(draw, generation: str) -> dict:
    body = {"image": draw(nonempty), "command": draw(st.lists(texts, max_size=3))}
    optional(draw, body, "tag", nonempty)
    optional(draw, body, "memory", st.integers(1, 8192))
    optional(draw, body, "cpu", st.integers(1, 4096))
    optional(draw, body, "log_paths", st.lists(nonempty, max_size=2))
    if generation == "2018-12":
        optional(draw, body, "taskRoleArn", nonempty)
        optional(draw, body, "environment_variables", env_vars())
    return {"docker_image_command": body}


@st.composite
def batch(draw, generation: str) -> dict:
    body = {
        "image": draw(nonempty),
        "command": draw(st.lists(texts, max_size=3)),
        "memory": draw(st.integers(1, 65536)),
        "vCpus": draw(st.integers(1, 64)),
    }
    optional(draw, body, "tag", nonempty)
    optional(draw, body, "job_role_arn", nonempty)
    optional(draw, body, "environment_variables", env_vars())
    optional(draw, body, "job_queue", nonempty)
    return {"batch_image_command": body}


@st.composite
def instance_group(draw) -> dict:
    group = {
        "emr_instance_type": draw(st.sampled_from(["m5.xlarge", "r5.2xlarge"])),
        "instance_count": draw(st.integers(1, 20)),
        "aws_market": draw(
            st.one_of(
                st.just({"on_demand": "on_demand"}),
                st.integers(1, 99).map(lambda c: {"spot": {"bid_price": c / 100}}),
            )
        ),
    }
    optional(draw, group, "ebs_volume_size", st.integers(1, 1024))
    return group


def configurations(depth: int = 2):
    @st.composite
    def one(draw) -> dict:
        item: dict = {}
        optional(draw, item, "classification", nonempty)
        optional(
            draw,
            item,
            "properties",
            st.dictionaries(nonempty, texts, max_size=2),
        )
        if depth > 1:
            optional(draw, item, "configurations", configurations(depth - 1))
        return item

    return st.lists(one(), max_size=2)


def role(kind: str):
    default = {"service": "EMR_DefaultRole", "job_flow": "EMR_EC2_DefaultRole"}[kind]
    return st.one_of(
        st.just({f"default_emr_{kind}_role": default}),
        nonempty.map(lambda n: {f"custom_emr_{kind}_role": {"role_name": n}}),
    )


@st.composite
def new_cluster(draw) -> dict:
    body = {
        "name": draw(nonempty),
        "applications": draw(
            st.lists(st.sampled_from(APPLICATIONS), unique=True, max_size=3)
        ),
        "s3_log_uri": "s3://logs/" + draw(nonempty),
        "master_instance": draw(instance_group()),
        "emr_service_role": draw(role("service")),
        "emr_job_flow_role": draw(role("job_flow")),
    }
    optional(draw, body, "release_label", st.sampled_from(RELEASE_LABELS))
    optional(draw, body, "core_instance", instance_group())
    optional(draw, body, "task_instance", instance_group())
    optional(draw, body, "ec2_subnet", nonempty)
    optional(draw, body, "visible_to_all_users", st.booleans())
    optional(draw, body, "configurations", configurations())
    optional(draw, body, "security_configuration", nonempty)
    return {"new_emr_cluster": body}


copies = st.lists(
    st.fixed_dictionaries(
        {
            "source": nonempty.map(lambda s: "s3://in/" + s),
            "destination": nonempty.map(lambda s: "hdfs:///in/" + s),
        }
    ),
    max_size=2,
)


@st.composite
def emr(draw, generation: str) -> dict:
    cluster = draw(
        st.one_of(
            new_cluster(),
            nonempty.map(lambda c: {"existing_emr_cluster": {"cluster_id": "j-" + c}}),
        )
    )
    body = {
        "emr_cluster": cluster,
        "job_name": draw(nonempty),
        "class": "com.example." + draw(nonempty),
        "s3_jar_path": "s3://jars/" + draw(nonempty),
        "spark_conf": draw(st.lists(texts, max_size=2)),
        "args": draw(st.lists(texts, max_size=3)),
    }
    optional(draw, body, "region", st.sampled_from(["us-east-1", "eu-west-1"]))
    optional(
        draw,
        body,
        "spark_packages",
        st.lists(
            st.fixed_dictionaries(
                {"group_id": nonempty, "artifact_id": nonempty, "version": nonempty}
            ),
            max_size=2,
        ),
    )
    optional(
        draw,
        body,
        "s3_log_details",
        st.fixed_dictionaries(
            {"log_group_name": nonempty, "log_stream_name": nonempty}
        ),
    )
    optional(draw, body, "load_data", copies)
    optional(draw, body, "save_results", copies)
    return {"emr_command": body}


EXECUTABLES = {
    "2016-02": (docker, shell),
    "2018-12": (docker, shell, batch, emr),
    "2019-07": (shell, batch, emr),
}


@st.composite
def schedules(draw):
    return draw(
        st.one_of(
            st.just({"continuous_schedule": {}}),
            st.integers(0, 3600).map(
                lambda b: {"continuous_schedule": {"buffer_seconds": b}}
            ),
            st.sampled_from(CRONS).map(
                lambda c: {"cron_schedule": dict(zip(CRON_FIELDS, c))}
            ),
        )
    )


@st.composite
def notifications(draw, generation: str) -> dict:
    if generation == "2016-02":
        subs = st.fixed_dictionaries({"name": texts, "email": nonempty})
        return {"subscriptions": draw(st.lists(subs, max_size=2))}

    @st.composite
    def one(draw):
        if draw(st.booleans()):
            body = {"name": draw(texts), "email": draw(nonempty)}
            optional(draw, body, "notify_when", st.sampled_from(NOTIFY_WHEN))
            return {"email": body}
        body = {"service_key": draw(nonempty)}
        optional(draw, body, "num_consecutive_failures", st.integers(1, 5))
        optional(draw, body, "api_url", st.just("https://events.eu.pagerduty.com"))
        return {"pagerduty": body}

    return {"notifications": draw(st.lists(one(), max_size=3))}


@st.composite
def definitions(draw, generation: str | None = None, max_tasks: int = 5) -> dict:
    """One valid definition; its tasks listed in an order their dependencies allow."""
    generation = generation or draw(st.sampled_from(GENERATIONS))
    task_names = draw(st.lists(names, min_size=1, max_size=max_tasks, unique=True))
    tasks = []
    for i, task_name in enumerate(task_names):
        earlier = task_names[:i]
        upstream = (
            draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3))
            if earlier
            else []
        )
        task = {
            "task_definition_name": task_name,
            "dependencies": [
                {"task_definition_name": d, "success_required": draw(st.booleans())}
                for d in upstream
            ],
            "executable": draw(
                st.sampled_from(EXECUTABLES[generation]).flatmap(
                    lambda make: make(generation)
                )
            ),
            "max_attempts": draw(st.integers(1, 4)),
            "backoff_base_seconds": draw(st.integers(0, 120)),
        }
        optional(draw, task, "backoff_exponent", st.sampled_from([1.0, 1.5, 2.0]))
        optional(draw, task, "max_runtime_seconds", st.integers(1, 7200))
        optional(draw, task, "require_explicit_success", st.booleans())
        tasks.append(task)
    data = {
        "process_definition_name": draw(names),
        "task_definitions": tasks,
    }
    optional(draw, data, "paused", st.booleans())
    optional(draw, data, "process_description", texts)
    optional(draw, data, "schedule", schedules())
    optional(draw, data, "overlap_action", st.sampled_from(["wait", "terminate"]))
    if draw(st.booleans()):
        data.update(draw(notifications(generation)))
    return data


def estates(min_size: int = 1, max_size: int = 4):
    """A few definitions with distinct names."""
    return st.lists(
        definitions(),
        min_size=min_size,
        max_size=max_size,
        unique_by=lambda d: d["process_definition_name"],
    )


# Empty lists that Sundial's database cannot tell from none (a shell or ECS task's env
# vars, notifications, subscriptions): they read back as absent.
ONE_WAY = {"subscriptions", "notifications", "environment_variables"}


def without_empty(value, keys):
    if isinstance(value, dict):
        return {
            k: without_empty(v, keys)
            for k, v in value.items()
            if not (k in keys and v == [])
        }
    if isinstance(value, list):
        return [without_empty(v, keys) for v in value]
    return value


# -- wrong values anywhere (issue 19's class) ------------------------------------------


def json_values():
    """Any JSON value, including the awkward ones: huge integers, infinities, deep
    nesting, objects with odd keys."""
    from hypothesis import strategies as st

    leaves = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.sampled_from([10**400, -(10**30), 2**31, 2**63])
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text(max_size=20)
    )
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=12,
    )


def value_paths(value, prefix=()):
    """Every place in a definition a value can be put."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from value_paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from value_paths(v, prefix + (i,))


def replaced(data, path, new):
    if not path:
        return new
    data = copy.deepcopy(data)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return data
