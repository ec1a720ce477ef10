"""Mapping rules: defaults, globs, layering, merging, provenance and clear errors."""

from __future__ import annotations

import pytest

from migrate.mapping.rules import MappingError, MappingRules


def write(tmp_path, text, name="team.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_cover_every_setting_with_origin():
    settings = MappingRules.load().resolve("any")
    assert settings["sundial_batch_job_queue"] == "sundial-job-queue"
    assert settings["sundial_ecs_default_cpu"] == 1000
    assert settings["sundial_ecs_default_memory"] == 768
    assert settings.origin("owner").endswith("mappings/default.yaml:defaults.owner")


def test_rules_match_process_and_task_globs_later_wins(tmp_path):
    path = write(
        tmp_path,
        """
rules:
  - name: finance
    processes: ["finance*"]
    set: {owner: finance, tags: [fin]}
  - processes: ["finance-daily"]
    tasks: ["load*"]
    set: {batch_job_queue: fast, owner: loader}
""",
    )
    rules = MappingRules.load([path])
    assert rules.resolve("finance-daily")["owner"] == "finance"
    assert rules.resolve("finance-daily")["tags"] == ["sundial", "fin"]  # lists merge
    assert rules.resolve("finance-daily", "load.x")["owner"] == "loader"
    assert rules.resolve("finance-daily", "load.x")["batch_job_queue"] == "fast"
    assert rules.resolve("finance-daily", "other")["batch_job_queue"] is None
    assert rules.resolve("sales")["owner"] == "airflow"
    assert (
        rules.resolve("finance-daily").origin("owner") == f"{path}:rules[0] (finance)"
    )


def test_later_files_override_defaults(tmp_path):
    a = write(
        tmp_path, "defaults: {owner: a, batch_job_queue_renames: {x: y}}", "a.yaml"
    )
    b = write(
        tmp_path,
        "rules: [{processes: '*', set: {batch_job_queue_renames: {p: q}}}]",
        "b.yaml",
    )
    settings = MappingRules.load([a, b]).resolve("z")
    assert settings["owner"] == "a"
    assert settings["batch_job_queue_renames"] == {"x": "y", "p": "q"}  # dicts merge


@pytest.mark.parametrize(
    "text, message",
    [
        ("rules: [{set: {ownr: x}}]", "unknown setting 'ownr'; did you mean owner?"),
        (
            "defaults: {batch_job_definitions: maybe}",
            "must be 'register' or 'external'",
        ),
        ("rules: {}", "rules: expected a list"),
        ("colour: blue", "unknown top-level key(s) colour"),
        ("rules: [{processes: 3, set: {}}]", "expected a glob or a list of globs"),
        ("defaults: {secret_env_pattern: '('}", "not a valid regular expression"),
        ("rules: [x", "not valid YAML"),
        (
            "defaults: {shell_working_directory: work}",
            "expected an absolute directory path or null",
        ),
    ],
)
def test_bad_mapping_files_get_one_clear_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(MappingError) as info:
        MappingRules.load([path])
    assert message in str(info.value)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
