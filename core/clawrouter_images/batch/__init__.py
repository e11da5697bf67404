"""Batches: thousands of images from one file, concurrent, resumable without paying twice.

>>> from clawrouter_images.batch import run_batch
>>> summary = run_batch("prompts.jsonl", "out/", budget_usd=50)  # doctest: +SKIP
>>> summary.ok, summary.spent_usd  # doctest: +SKIP

``AsyncBatch`` / ``Batch`` iterate over the records as they are written (async and sync);
``arun_batch`` / ``run_batch`` run to the end and return a ``BatchSummary``.  A rerun into
the same folder skips ids that are ``ok``, does not send ``uncertain`` ones again unless
``retry_uncertain=True``, retries ids that failed before anything was sent, and counts
what earlier runs spent against ``budget_usd``.  ``run_request`` is one request in, one
record out, for an engine that spreads the work (Dask, Ray); ``shard_of`` and
``merge_results`` split a batch by id and put the folders back together.

Each line of ``DIR/results.jsonl`` is plain JSON: ``id``, ``status`` (``"sending"`` before
the POST, then ``"ok"``, ``"failed"`` or ``"uncertain"``), ``paths`` (relative to DIR),
``urls``, ``model``, ``size``, ``n``, ``estimated_cost_usd``, ``may_have_been_paid``,
``error``, ``error_type``, ``prompt``, ``line``, ``at``.
"""

from __future__ import annotations

from ._engine import (
    AsyncBatch,
    Batch,
    BatchSummary,
    arun_batch,
    parse_shard,
    run_batch,
    run_request,
)
from ._journal import FAILED, OK, SENDING, UNCERTAIN, JournalError, Record, read_records
from ._merge import MergeSummary, merge_results
from ._progress import Progress, summary_text
from ._requests import BadLine, BatchRequest, shard_of

__all__ = [
    "FAILED",
    "OK",
    "SENDING",
    "UNCERTAIN",
    "AsyncBatch",
    "BadLine",
    "Batch",
    "BatchRequest",
    "BatchSummary",
    "JournalError",
    "MergeSummary",
    "Progress",
    "Record",
    "arun_batch",
    "merge_results",
    "parse_shard",
    "read_records",
    "run_batch",
    "run_request",
    "shard_of",
    "summary_text",
]
