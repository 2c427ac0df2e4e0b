"""cluster: GPU discovery, GPU workers pinned one per device with a GPU resource, connecting by address."""

from __future__ import annotations

import os
import time

import distributed
import pytest

from bearing_workbench.runner import cluster

from .conftest import wait_for


def test_gpu_ids_follow_cuda_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 5")
    assert cluster.gpu_ids() == ["2", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert cluster.gpu_ids() == []


@pytest.fixture(scope="module")
def gpu_cluster():
    """The GPU cluster layout for two devices (no dask-cuda here: Nanny workers pinned by env)."""
    spec_cluster = cluster._gpu_cluster(["0", "1"], threads_per_worker=1)
    yield spec_cluster
    spec_cluster.close()


def test_gpu_workers_are_pinned_one_device_each(gpu_cluster, monkeypatch):
    monkeypatch.setenv(cluster.SCHEDULER_ENV, gpu_cluster.scheduler_address)
    client = cluster.connect()  # the address comes from the environment variable
    try:
        assert cluster.connect() is client  # reused
        client.wait_for_workers(2, timeout=60)
        assert cluster.has_gpu_workers(client)
        workers = client.scheduler_info()["workers"]
        assert [w["resources"] for w in workers.values()] == [{"GPU": 1}, {"GPU": 1}]
        devices = client.run(os.getenv, "CUDA_VISIBLE_DEVICES")  # os.getenv runs in the worker
        assert sorted(devices.values()) == ["0", "1"]
        # a worker with its one GPU taken runs no second GPU task
        futures = [
            client.submit(time.sleep, 0.5, resources={"GPU": 1}, pure=False, key=f"gpu-task-{i}")
            for i in range(2)
        ]
        wait_for(lambda: sum(map(len, client.processing().values())) == 2, "both GPU tasks to start")
        assert sorted(len(keys) for keys in client.processing().values()) == [1, 1]
        client.gather(futures)
    finally:
        client.close()  # not close_local_clusters: the session cluster stays


def test_cpu_cluster_has_no_gpu_resource(client):
    assert not cluster.has_gpu_workers(client)
    assert isinstance(client, distributed.Client)
    assert cluster.current_client() is client
