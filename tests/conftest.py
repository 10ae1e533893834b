"""Shared fixtures. GUI tests live in tests/napari and use napari's make_napari_viewer."""

from __future__ import annotations

import pytest

from napari_labelsuite.core.synthetic import NUCLEI_CLASSES, make_cells_2d
from napari_labelsuite.core.taxonomy import Taxonomy


@pytest.fixture(scope="session")
def cells_2d():
    """The 1024 x 1024 synthetic sample with ground truth (read-only: copy before editing)."""
    sample = make_cells_2d()
    for arr in (sample.image, sample.instances, sample.semantic, sample.cells):
        arr.flags.writeable = False
    return sample


@pytest.fixture(scope="session")
def small_cells():
    """A 256 x 256 synthetic sample for fast tests (read-only)."""
    sample = make_cells_2d((256, 256), seed=3)
    for arr in (sample.image, sample.instances, sample.semantic, sample.cells):
        arr.flags.writeable = False
    return sample


@pytest.fixture
def cells_taxonomy():
    """The nucleus / cytoplasm taxonomy of the synthetic samples."""
    return Taxonomy(NUCLEI_CLASSES, name="cells")


# -- S3 (moto's server on loopback) -----------------------------------------------------------
#: the bucket :func:`s3_options` creates
S3_BUCKET = "labels-bucket"


@pytest.fixture(scope="module")
def s3_endpoint():
    """URL of a moto S3 server on 127.0.0.1 (one per test module); skipped without s3fs/moto."""
    pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.moto_server.threaded_moto_server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_options(s3_endpoint, monkeypatch):
    """fsspec storage options for :func:`s3_endpoint`, with the bucket ``labels-bucket``."""
    import boto3

    for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                 ("AWS_DEFAULT_REGION", "us-east-1")):  # fmt: skip
        monkeypatch.setenv(k, v)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    if S3_BUCKET not in [b["Name"] for b in client.list_buckets().get("Buckets", [])]:
        client.create_bucket(Bucket=S3_BUCKET)
    return {
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
        "skip_instance_cache": True,
    }
