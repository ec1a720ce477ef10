"""The S3 target: ``s3://BUCKET/PREFIX``, read by the amazon provider's ``S3DagBundle``.

Each DAG file ``DIR/dags/<file>`` becomes the object ``PREFIX/<file>`` with the metadata
``sundial-migrate-sha256`` (its content hash, for people looking at the bucket).  The
manifest object ``PREFIX/.sundial-migrate-deploy.json`` is the ownership record: every
object's sha256 and ETag, so a run needs one listing and one read.  An object whose
listed ETag is the recorded one is ours and unchanged since; any other object is not
ours, whatever its metadata says (``aws s3 cp`` copies metadata with the object): it is
kept, or adopted when its plain-MD5 ETag shows the very bytes the tool would write (how
the uploads of an interrupted run, whose record was never written, become ours again).

Credentials and region come the usual boto3 way (environment, profile, instance or task
role); ``endpoint_url`` serves S3-compatible stores.  botocore errors become one line
that names the bucket, the operation and what to check, never a credential.
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import contextmanager

from migrate.deploy.mirror import (
    LOCK,
    MANIFEST,
    DeployError,
    Remote,
    Scan,
    describe_owner,
    ignored,
    lock_owner,
    manifest_document,
    parse_manifest,
    stale,
)

SHA_KEY = "sundial-migrate-sha256"  # x-amz-meta-sundial-migrate-sha256
_PLAIN_MD5 = re.compile(r"^[0-9a-f]{32}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-_]{1,254}$")


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` -> ``("bucket", "some/prefix")``."""
    rest = url[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not bucket or not _BUCKET.match(bucket):
        raise DeployError(
            f"--to {url}: not s3://BUCKET/PREFIX (bucket {bucket!r} is not a bucket name)"
        )
    prefix = "/".join(p for p in prefix.split("/") if p)
    if any(p in (".", "..") for p in prefix.split("/")):
        raise DeployError(f"--to {url}: '.' and '..' are not allowed in the prefix")
    return bucket, prefix


class S3Target:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        client=None,
    ):
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        self.description = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
        self._client = client
        # the record's ETag when scanned ("" when there was none): it is written back
        # only if it is still that one, so a concurrent writer is caught, never mixed in
        self._manifest_token: str | None = None

    # -- plumbing ---------------------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            import boto3
            from botocore.config import Config

            try:
                self._client = boto3.session.Session().client(
                    "s3",
                    endpoint_url=self.endpoint_url,
                    config=Config(retries={"max_attempts": 5, "mode": "standard"}),
                )
            except Exception as exc:  # bad profile, bad endpoint URL...
                raise DeployError(
                    f"{self.description}: cannot set up S3: {exc}"
                ) from None
        return self._client

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def where(self, rel: str) -> str:
        return f"s3://{self.bucket}/{self.key(rel)}"

    def _call(self, operation: str, where: str, **kwargs):
        try:
            return getattr(self.client, operation)(**kwargs)
        except Exception as exc:
            if _precondition_failed(exc):
                raise _PreconditionFailed() from None
            raise DeployError(self._explain(operation, where, exc)) from None

    def _explain(self, operation: str, where: str, exc: Exception) -> str:
        from botocore import exceptions as bx

        api = "".join(p.title() for p in operation.split("_"))
        if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
            return (
                f"{where}: no AWS credentials found (set AWS_PROFILE, or "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with an instance "
                "or task role)"
            )
        if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError)):
            endpoint = self.endpoint_url or "the S3 endpoint"
            return f"{where}: cannot connect to {endpoint} ({api}); check --endpoint-url and the network"
        if isinstance(exc, bx.ClientError):
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "NoSuchBucket" or (code == "404" and api == "ListObjectsV2"):
                return (
                    f"s3://{self.bucket}: no such bucket (create it, or check --to"
                    + (" and --endpoint-url)" if self.endpoint_url else ")")
                )
            if code in ("AccessDenied", "403", "AllAccessDisabled") or status == 403:
                return (
                    f"{where}: access denied for {api} (the AWS identity in use needs "
                    "s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject on "
                    "this bucket and prefix)"
                )
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"):
                return f"{where}: the AWS credentials were rejected ({code}); check them or refresh the session"
            message = " ".join(str(err.get("Message", "")).split())
            return f"{where}: {api} failed: {code or status} {message}".rstrip()
        if isinstance(exc, bx.ParamValidationError):
            return f"{where}: {api}: {' '.join(str(exc).split())}"
        if isinstance(exc, bx.BotoCoreError):
            return f"{where}: {api} failed: {' '.join(str(exc).split())}"
        return (
            f"{where}: {api} failed: {type(exc).__name__}: {' '.join(str(exc).split())}"
        )

    # -- the Target protocol ----------------------------------------------------------
    # what scan lists under the prefix: everything ("") or, for a layout that shares
    # the prefix with others (MWAA's bucket), only these folders ("dags/") and files
    roots: tuple[str, ...] = ("",)

    def _listed(self) -> dict[str, str]:
        """rel -> ETag of every object under the prefix that one of ``roots`` covers."""
        listed: dict[str, str] = {}
        base = f"{self.prefix}/" if self.prefix else ""
        for root in self.roots:
            token = None
            while True:
                kwargs = {"Bucket": self.bucket, "Prefix": base + root}
                if token:
                    kwargs["ContinuationToken"] = token
                page = self._call("list_objects_v2", self.description, **kwargs)
                for obj in page.get("Contents", []):
                    rel = obj["Key"][len(base) :]
                    if not rel or rel.endswith("/"):
                        continue  # "folder" placeholders
                    if root and not root.endswith("/") and rel != root:
                        continue  # plugins.zip.old when asked for plugins.zip
                    listed[rel] = obj.get("ETag", "").strip('"')
                if not page.get("IsTruncated"):
                    break
                token = page.get("NextContinuationToken")
        return listed

    def scan(self) -> Scan:
        listed = self._listed()
        manifest: dict[str, dict] = {}
        self._manifest_token = listed.get(MANIFEST, "")
        if MANIFEST in listed:
            body = self._call(
                "get_object",
                self.where(MANIFEST),
                Bucket=self.bucket,
                Key=self.key(MANIFEST),
            )["Body"].read()
            manifest = parse_manifest(body)
        remote: dict[str, Remote] = {}
        for rel, etag in listed.items():
            if ignored(rel):
                continue
            recorded = manifest.get(rel)
            if recorded is not None and recorded.get("token") == etag:
                remote[rel] = Remote(rel, True, recorded["sha256"], token=etag)
                continue
            # not in the ownership record as it is now: not ours, whatever its
            # metadata says (metadata is copied with the object); the same bytes as
            # ours (its plain-MD5 ETag says so) are adopted by the plan
            md5 = etag if _PLAIN_MD5.match(etag) else None
            remote[rel] = Remote(rel, False, None, md5=md5, token=etag)
        return Scan(remote, manifest)

    def put(self, rel: str, data: bytes, sha256: str) -> str | None:
        answer = self._call(
            "put_object",
            self.where(rel),
            Bucket=self.bucket,
            Key=self.key(rel),
            Body=data,
            ContentType=_content_type(rel),
            Metadata={SHA_KEY: sha256},
        )
        etag = answer.get("ETag")
        return etag.strip('"') if etag else None

    def delete(self, rel: str) -> None:
        self._call(
            "delete_object", self.where(rel), Bucket=self.bucket, Key=self.key(rel)
        )

    def save_manifest(self, files: dict[str, dict]) -> None:
        data = manifest_document(files)
        condition = {}
        if self._manifest_token:
            condition = {"IfMatch": self._manifest_token}
        elif self._manifest_token == "":
            condition = {"IfNoneMatch": "*"}
        try:
            answer = self._call(
                "put_object",
                self.where(MANIFEST),
                Bucket=self.bucket,
                Key=self.key(MANIFEST),
                Body=data,
                ContentType="application/json",
                Metadata={SHA_KEY: hashlib.sha256(data).hexdigest()},
                **condition,
            )
        except _PreconditionFailed:
            raise DeployError(
                f"{self.where(MANIFEST)}: the ownership record was changed by someone "
                "else while this deploy ran (another deploy to this prefix at the same "
                "time?): its record was not overwritten; re-run to settle the target"
            ) from None
        self._manifest_token = (answer.get("ETag") or "").strip('"') or None

    # -- the deploy lock --------------------------------------------------------------
    @contextmanager
    def lock(self):
        """PREFIX/.sundial-migrate-deploy.lock, created only if absent (S3's conditional
        write), held for the whole deploy and deleted after: a second deploy to this
        prefix stops at once with one line.  A lock left by a deploy that cannot still be
        running (older than an hour, or a process of this host that is gone) is taken
        over, again conditionally, so two re-runs never both take it."""
        where = self.where(LOCK)
        body = json.dumps(lock_owner()).encode()
        token = self._take_lock(where, body, {"IfNoneMatch": "*"})
        stale_version = None
        if token is None:
            owner, held_token, held_version = self._lock_holder(where)
            if not held_token or stale(owner):
                condition = (
                    {"IfMatch": held_token} if held_token else {"IfNoneMatch": "*"}
                )
                token = self._take_lock(where, body, condition)
                stale_version = held_version
            if token is None:
                raise DeployError(
                    f"{self.description}: another migrate deploy is writing to this "
                    f"prefix ({describe_owner(owner)}); nothing was changed: re-run when "
                    f"it has finished (if it is not running any more, delete {where})"
                )
        try:
            yield
        finally:
            self._release(*token, stale_version)

    def _lock_holder(self, where: str) -> tuple[dict, str, str | None]:
        """(who holds the lock, its ETag, its version id); ETag "" when it is gone."""
        try:
            held = self._call(
                "get_object", where, Bucket=self.bucket, Key=self.key(LOCK)
            )
            owner = _owner(held["Body"].read(4096))
        except DeployError:
            return {}, "", None  # deleted meanwhile: take it as new
        if not isinstance(owner.get("since"), int) and held.get("LastModified"):
            owner["since"] = int(held["LastModified"].timestamp())
        version = held.get("VersionId")
        return (
            owner,
            str(held.get("ETag", "")).strip('"'),
            version if version and version != "null" else None,
        )

    def _take_lock(
        self, where: str, body: bytes, condition: dict
    ) -> tuple[str, str | None] | None:
        """The lock's (ETag, version id), or None when someone holds it."""
        try:
            answer = self._call(
                "put_object",
                where,
                Bucket=self.bucket,
                Key=self.key(LOCK),
                Body=body,
                ContentType="application/json",
                **condition,
            )
        except _PreconditionFailed:
            return None
        except DeployError as exc:
            raise DeployError(f"{exc}; taking the deploy lock: nothing was changed")
        version = answer.get("VersionId")
        etag = str(answer.get("ETag", "")).strip('"')
        return etag, version if version and version != "null" else None

    def _release(
        self, etag: str, version: str | None, stale_version: str | None
    ) -> None:
        """Delete our own lock only (not one taken over from us meanwhile).  In a
        versioned bucket (MWAA's) the very versions are deleted, ours and the stale one
        taken over, so deploys leave no lock history behind."""
        key = self.key(LOCK)
        try:
            if not version:
                raise ValueError("unversioned")
            for v in (version, stale_version):
                if v:
                    self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=v)
            return
        except Exception:
            pass  # unversioned, or no s3:DeleteObjectVersion: a plain delete
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key, IfMatch=etag)
        except Exception:
            pass  # it expires; the record's condition guards the next run


class _PreconditionFailed(Exception):
    """A conditional write lost (HTTP 412, or S3's 409 for a concurrent one)."""


def _precondition_failed(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in ("PreconditionFailed", "ConditionalRequestConflict")


def _owner(data: bytes) -> dict:
    try:
        owner = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    return owner if isinstance(owner, dict) else {}


def _content_type(rel: str) -> str:
    if rel.endswith(".py"):
        return "text/x-python"
    if rel.endswith(".zip"):
        return "application/zip"
    return "text/plain"
