"""A real moto S3 server on loopback for the deploy tests, and a converted estate."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest

from tests.run.harness import MotoServer


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto-deploy"))
    try:
        yield server
    finally:
        server.stop()


class Bucket:
    """A fresh versioned bucket: every PUT or DELETE shows as a new version."""

    def __init__(self, moto: MotoServer):
        self.moto = moto
        self.name = f"dags-{uuid.uuid4().hex[:10]}"
        self.s3 = moto.client("s3")
        self.s3.create_bucket(Bucket=self.name)
        self.s3.put_bucket_versioning(
            Bucket=self.name, VersioningConfiguration={"Status": "Enabled"}
        )

    def url(self, prefix: str = "prod/dags") -> str:
        return f"s3://{self.name}/{prefix}"

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        out = {}
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=prefix
        )
        for page in pages:
            for obj in page.get("Contents", []):
                out[obj["Key"]] = self.s3.get_object(Bucket=self.name, Key=obj["Key"])[
                    "Body"
                ].read()
        return out

    def versions(self) -> dict[str, list[str]]:
        """key -> version ids, delete markers included as 'deleted:<id>'."""
        out: dict[str, list[str]] = {}
        page = self.s3.list_object_versions(Bucket=self.name)
        for v in page.get("Versions", []):
            out.setdefault(v["Key"], []).append(v["VersionId"])
        for m in page.get("DeleteMarkers", []):
            out.setdefault(m["Key"], []).append("deleted:" + m["VersionId"])
        return out

    def put(self, key: str, body: bytes, **kw) -> None:
        self.s3.put_object(Bucket=self.name, Key=key, Body=body, **kw)

    def metadata(self, key: str) -> dict:
        return self.s3.head_object(Bucket=self.name, Key=key)["Metadata"]

    def manifest(self, prefix: str = "prod/dags") -> dict:
        body = self.s3.get_object(
            Bucket=self.name, Key=f"{prefix}/.sundial-migrate-deploy.json"
        )["Body"].read()
        return json.loads(body)["files"]


@pytest.fixture
def bucket(moto_s3):
    return Bucket(moto_s3)


@pytest.fixture
def aws_env(moto_s3, monkeypatch):
    """boto3's usual configuration, pointing at nothing but the fake credentials."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    return moto_s3.endpoint


@pytest.fixture
def out_dir(tmp_path, converted_estate):
    """An editable copy of the converted fixture estate (28 DAG files)."""
    from tests.conftest import ESTATE_OUT

    target = tmp_path / "out"
    shutil.copytree(ESTATE_OUT, target)
    return target
