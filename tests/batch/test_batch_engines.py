"""Beyond one machine: the unit of work, shards by a stable hash, and the recipe on Dask."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from clawrouter_images import ImageClient
from clawrouter_images.batch import BatchRequest, run_request, shard_of
from clawrouter_images.emulator import Emulator

from .conftest import posts

PINNED = [2, 1, 1, 0, 0, 2, 1, 3]  # sha256 of the id, first 8 bytes, modulo 4


def test_shard_of_is_a_stable_hash_of_the_id() -> None:
    """Pinned values: every process, machine and Python agrees (no PYTHONHASHSEED)."""
    assert [shard_of(f"r{i}", 4) for i in range(8)] == PINNED
    assert shard_of(7, 5) == shard_of("7", 5)


def test_run_request_is_one_request_in_one_plain_record_out(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The record is JSON data that pickles; a second call with the same id sends nothing."""
    request = BatchRequest(id="fox", prompt="a red fox")
    with emulator.sync_client() as http, ImageClient(emulator.base_url, http_client=http) as client:
        record = run_request(request, tmp_path / "out", client=client)
        again = run_request(request.to_json(), tmp_path / "out", client=client)
    assert record["status"] == "ok"
    assert json.loads(json.dumps(record)) == record
    assert pickle.loads(pickle.dumps(record)) == record  # noqa: S301 (our own bytes)
    assert again == record
    assert posts(emulator) == ["a red fox"]


def test_run_request_turns_errors_into_records(emulator: Emulator, tmp_path: Path) -> None:
    """A paid failure is an uncertain record, not an exception crossing the engine."""
    emulator.add_fault("timeout")
    with emulator.sync_client() as http, ImageClient(emulator.base_url, http_client=http) as client:
        record = run_request({"id": 1, "prompt": "slow"}, tmp_path / "out", client=client)
    assert (record["status"], record["may_have_been_paid"]) == ("uncertain", True)
    assert record["error_type"] == "GenerationTimeoutError"


def _task(line: dict[str, object], folder: str, base_url: str) -> dict[str, object]:
    """What each Dask task runs: the Python API against its machine's ClawRouter."""
    return run_request(line, folder, base_url=base_url)


def test_the_dask_recipe_runs_every_request_once_and_merges_by_id(
    emulator: Emulator, served: str, tmp_path: Path
) -> None:
    """client.map over the lines, records merged by id; mapping again pays for nothing."""
    distributed = pytest.importorskip("distributed")
    lines = [{"id": f"r{i}", "prompt": f"picture {i}"} for i in range(12)]
    folder = str(tmp_path / "out")
    try:
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=False, dashboard_address=None
        )
    except Exception as err:  # pragma: no cover - depends on the machine
        pytest.skip(f"no Dask LocalCluster here: {err}")
    with cluster, distributed.Client(cluster) as dask:
        futures = dask.map(_task, lines, folder=folder, base_url=served, pure=False)
        merged = {record["id"]: record for record in dask.gather(futures)}
        again = dask.gather(dask.map(_task, lines, folder=folder, base_url=served, pure=False))
    assert sorted(merged) == sorted(line["id"] for line in lines)
    assert {record["status"] for record in merged.values()} == {"ok"}
    assert sorted(posts(emulator)) == sorted(str(line["prompt"]) for line in lines)
    assert {record["id"]: record for record in again} == merged
