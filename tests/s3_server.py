"""moto's S3 server on loopback: the bucket for the object-storage and multi-host tests.

A real HTTP server in a subprocess (`python -m moto.server`), so boto3 and django-storages
talk S3 over the wire exactly as they would to AWS, MinIO or R2; only the cloud edge is
replaced.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

ACCESS_KEY = "detailer-test"
SECRET_KEY = "detailer-test-secret"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """Start moto's S3 server on a free loopback port; yields its endpoint URL."""
    pytest.importorskip(
        "moto.server", reason="moto[server] is not installed (pip install -e '.[test]')"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail("moto's S3 server exited at start")
            with contextlib.suppress(requests.RequestException):
                requests.get(f"{url}/moto-api/", timeout=1)
                break
            if time.monotonic() > deadline:
                pytest.fail("moto's S3 server did not answer in 30 s")
            time.sleep(0.1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


def new_bucket(endpoint: str) -> str:
    name = f"detailer-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def bucket_keys(endpoint: str, bucket: str) -> list[str]:
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def storage_settings(endpoint: str, bucket: str) -> dict:
    """The default storage as settings.py configures it for DETAILER_S3_BUCKET."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "region_name": REGION,
            "endpoint_url": endpoint,
            "addressing_style": "path",
            "signature_version": "s3v4",
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
            "max_memory_size": 5 * 1024 * 1024,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
        },
    }


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def s3_bucket(s3_endpoint: str, settings) -> str:
    """A fresh bucket that this test's default storage writes to."""
    bucket = new_bucket(s3_endpoint)
    settings.STORAGES = {**settings.STORAGES, "default": storage_settings(s3_endpoint, bucket)}
    return bucket
