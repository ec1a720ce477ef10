"""The mapping passes, checked on the intermediate model (before any code exists)."""

from __future__ import annotations

from migrate.convert import convert_estate
from migrate.ir import TriggerRuleValue
from migrate.mapping.rules import MappingRules
from migrate.sundial.model import SourceRef
from migrate.sundial.wire import read_process

RULES = MappingRules.load()


def task(name, deps=(), attempts=1, script="true", **extra):
    data = {
        "task_definition_name": name,
        "dependencies": [
            {"task_definition_name": d, "success_required": r} for d, r in deps
        ],
        "executable": {"shell_script_command": {"script": script}},
        "max_attempts": attempts,
        "backoff_base_seconds": 10,
    }
    data.update(extra)
    return data


def model_of(*tasks, rules=RULES, **process):
    data = {"process_definition_name": "p", "task_definitions": list(tasks), **process}
    parsed = read_process(data, SourceRef("p.json"))
    assert not isinstance(parsed, list), [str(x) for x in parsed]
    (model,) = convert_estate([parsed], rules, "UTC")
    return model


def upstream(model, task_id):
    return {a for a, b in model.edges if b == task_id}


def findings(model, field):
    return [f for f in model.findings if f.field == field]


def test_required_only_uses_default_trigger_and_no_outcome_task():
    m = model_of(task("a"), task("b", [("a", True)]))
    assert upstream(m, "b") == {"a"}
    assert "trigger_rule" not in m.task("b").arguments
    assert [t.task_id for t in m.tasks] == ["a", "b"]


def test_optional_on_always_running_upstream_is_all_done_on_the_task():
    m = model_of(task("a"), task("b", [("a", False)]))
    args = m.task("b").arguments
    assert args["trigger_rule"].value == TriggerRuleValue("ALL_DONE")
    assert "required_upstreams" not in args and "optional_upstreams" not in args
    assert upstream(m, "b") == {"a"}
    # 'a' failing would leave the run's last task succeeded: the outcome task decides
    assert upstream(m, "sundial_run_outcome") == {"b"}


def test_mixed_dependencies_are_checked_by_the_task_itself():
    """No join task: the task waits for all (ALL_DONE) and checks its required upstream."""
    m = model_of(task("r"), task("o"), task("t", [("r", True), ("o", False)]))
    assert [n.task_id for n in m.tasks] == ["o", "r", "t", "sundial_run_outcome"]
    args = m.task("t").arguments
    assert args["trigger_rule"].value == "ALL_DONE"
    assert args["required_upstreams"].value == ["r"]
    assert "optional_upstreams" not in args  # 'o' always runs
    assert upstream(m, "t") == {"r", "o"}


def test_optional_upstream_that_may_never_run_is_checked_too():
    m = model_of(task("a"), task("b", [("a", True)]), task("c", [("b", False)]))
    args = m.task("c").arguments
    assert args["optional_upstreams"].value == ["b"]
    assert "required_upstreams" not in args
    (f,) = findings(m, "task_definitions[c].dependencies")
    assert f.severity == "approximated" and "waiting forever" in f.message


def test_the_outcome_task_only_where_a_failure_could_be_hidden():
    # a chain of required dependencies: every failure reaches the last task
    m = model_of(task("a"), task("b", [("a", True)]), task("c", [("a", True)]))
    assert "sundial_run_outcome" not in {n.task_id for n in m.tasks}
    # an optional leaf after a required chain: a failed 'a' hides behind 'b'
    m = model_of(task("a"), task("b", [("a", False)]), task("c", [("a", True)]))
    assert "sundial_run_outcome" not in {n.task_id for n in m.tasks}  # 'c' shows it
    m = model_of(
        task("a"), task("x", [("a", True)]), task("b", [("x", True), ("a", False)])
    )
    assert upstream(m, "sundial_run_outcome") == {"b"}  # 'x' fails: 'b' is skipped


def test_first_attempt_release_is_reported():
    m = model_of(task("a", attempts=3), task("b", [("a", False)]))
    (f,) = findings(m, "task_definitions[b].dependencies")
    assert f.severity == "approximated" and "FIRST finished attempt" in f.message


def test_retries_backoff_and_timeout():
    m = model_of(task("a", attempts=4, backoff_exponent=2.0, max_runtime_seconds=600))
    args = m.task("a").arguments
    assert args["retries"].value == 3
    assert args["retry_delay"].value.seconds == 10
    assert args["retry_policy"].value.kwargs == (
        ("base_seconds", 10),
        ("exponent", 2.0),
    )
    assert args["execution_timeout"].value.seconds == 600
    assert args["retries"].provenance.fields == ("task_definitions[a].max_attempts",)
    assert (
        "[20, 40, 80]" in findings(m, "task_definitions[a].backoff_exponent")[0].message
    )


def test_flat_backoff_needs_no_policy():
    m = model_of(task("a", attempts=3))
    assert "retry_policy" not in m.task("a").arguments
    assert "retry" not in m.support_modules


def test_every_present_field_gets_a_fate_and_unknown_ones_are_reported():
    data_task = task("a")
    data_task["weird"] = 1
    m = model_of(data_task, paused=True, overlap_action="terminate", owner_team="x")
    fields = {f.field for f in m.findings}
    assert {
        "paused",
        "overlap_action",
        "task_definitions[a].max_attempts",
        "owner_team",
        "task_definitions[a].weird",
    } <= fields
    assert (
        next(f for f in m.findings if f.field == "owner_team").severity == "unsupported"
    )
    assert (
        next(f for f in m.findings if f.field == "overlap_action").severity
        == "approximated"
    )
    assert m.arguments["is_paused_upon_creation"].value is True


def test_secret_env_values_never_reach_the_model_as_constants():
    t = task("a")
    t["executable"]["shell_script_command"]["environment_variables"] = [
        {"variable_name": "DB_PASSWORD", "value": "hunter2"},
        {"variable_name": "PLAIN", "value": "ok"},
    ]
    m = model_of(t)
    args = m.task("a").arguments
    assert args["env"].value == {"PLAIN": "ok"}
    assert args["secret_env"].value == {"DB_PASSWORD": "sundial_p__a__db_password"}
    assert ("variable", "sundial_p__a__db_password") in [
        (k, i) for k, i, _ in m.to_create
    ]
    assert "hunter2" not in repr(m.arguments) + repr([t.arguments for t in m.tasks])


def test_pagerduty_pages_by_default_and_can_be_turned_off(tmp_path):
    pager = {
        "pagerduty": {
            "service_key": "SERVICEKEY",
            "num_consecutive_failures": 2,
            "api_url": "https://x",
        }
    }
    (tmp_path / "email.yaml").write_text(
        "defaults: {sundial_notifications_mode: email}"
    )
    m = model_of(
        task("a"),
        notifications=[pager],
        rules=MappingRules.load([tmp_path / "email.yaml"]),
    )
    assert m.bindings == {} and "on_failure_callback" not in m.arguments
    m = model_of(task("a"), notifications=[pager])
    # notifications are the DAG's callbacks: no task of their own
    assert [t.task_id for t in m.tasks] == ["a"]
    assert m.arguments["on_failure_callback"].value.name == "notifications"
    assert m.arguments["on_success_callback"].value.name == "notifications"
    call = m.bindings["notifications"].value
    assert call.func.name == "SundialNotifications"
    assert dict(call.kwargs)["pagerduty"] == [
        {"conn_id": "pagerduty_default", "num_consecutive_failures": 2}
    ]
    assert "SERVICEKEY" not in repr(m.bindings) + repr([t.arguments for t in m.tasks])
    assert any(
        kind == "connection" and ident == "pagerduty_default"
        for kind, ident, _ in m.to_create
    )


def test_task_id_collisions_are_deterministic():
    m1 = model_of(task("load.a"), task("load a"), task("load_a"))
    m2 = model_of(task("load_a"), task("load a"), task("load.a"))
    assert m1.task_map == m2.task_map
    assert sorted(m1.task_map.values()) == ["load_a", "load_a_2", "load_a_3"]


def test_sns_also_or_instead(tmp_path):
    """sns_topic_arn routes the process's notifications to an SNS topic: 'also' keeps the
    email and the page (and their connections), 'instead' drops them and needs no SMTP
    or PagerDuty connection; the findings say where each notification goes; a topic
    that is not an SNS ARN is one line."""
    import pytest

    from migrate.mapping.rules import MappingError

    topic = "arn:aws:sns:us-east-1:123456789012:team-alerts"
    notifications = [
        {
            "email": {
                "name": "ops",
                "email": "ops@example.com",
                "notify_when": "on_failure",
            }
        },
        {
            "pagerduty": {
                "service_key": "K",
                "num_consecutive_failures": 3,
                "api_url": "https://x",
            }
        },
    ]
    for mode in ("also", "instead"):
        rules = tmp_path / f"{mode}.yaml"
        rules.write_text(
            "version: 1\nrules:\n  - processes: [p]\n"
            f"    set: {{sns_topic_arn: '{topic}', sns_notifications: {mode}}}\n"
        )
        m = model_of(
            task("a"), notifications=notifications, rules=MappingRules.load([rules])
        )
        kwargs = dict(m.bindings["notifications"].value.kwargs)
        assert kwargs["sns"] == {
            "topic_arn": topic,
            "aws_conn_id": "aws_default",
            "region_name": "us-east-1",
        }
        created = {(kind, ident) for kind, ident, _ in m.to_create}
        messages = " ".join(
            f.message for f in m.findings if f.field.startswith("notifications")
        )
        if mode == "also":
            assert "sns_only" not in kwargs and kwargs["smtp_conn_id"] == "smtp_default"
            assert {
                ("connection", "smtp_default"),
                ("connection", "pagerduty_default"),
            } <= created
            assert f"published to SNS topic {topic} as well" in messages
        else:
            assert kwargs["sns_only"] is True and "smtp_conn_id" not in kwargs
            assert kwargs["pagerduty"] == [
                {"conn_id": None, "num_consecutive_failures": 3}
            ]
            assert ("connection", "smtp_default") not in created
            assert ("connection", "pagerduty_default") not in created
            assert "instead: no email is sent" in messages
            assert "instead of paging" in messages
        assert ("connection", "aws_default") in created
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ndefaults: {sns_topic_arn: 'team-alerts'}\n")
    with pytest.raises(MappingError, match="expected an SNS topic ARN"):
        MappingRules.load([bad])
