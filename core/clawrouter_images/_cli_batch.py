"""``clawrouter-images batch`` and ``merge``: the batch package behind the command line."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from ._cli_common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    add_where,
    fail,
    needs_extra,
)
from ._files import prepare_save_dir


def add_batch_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._constants import DEFAULT_BATCH_CONCURRENCY

    # Values are checked by the handler, not by argparse types, so that a bad one is a
    # single line on stderr (argparse adds its usage text).
    batch = commands.add_parser(
        "batch",
        help="Generate or edit many images from a JSONL file; rerun to resume.",
        description="Run every request of FILE.jsonl (one JSON object a line: prompt, and "
        "optionally id, model, size, n, image, mask, extra_body), a few at a time. Images, "
        "results.jsonl (a record per request) and index.html (a contact sheet) go into DIR. "
        "Run the same command again to resume: ids that are ok are skipped, ids that may "
        "have been paid (uncertain) are not sent again unless --retry-uncertain, and "
        "--budget-usd counts what earlier runs into DIR spent. Exit code 0 when every "
        "request is ok, 1 otherwise, 2 for a usage error.",
    )
    batch.add_argument("file", metavar="FILE.jsonl", help="the requests, one JSON object a line")
    batch.add_argument("-o", "--output", metavar="DIR", help="where results go (required)")
    add_where(batch, "use an in-process emulator: no ClawRouter, no wallet")
    batch.add_argument(
        "--concurrency",
        metavar="N",
        default=str(DEFAULT_BATCH_CONCURRENCY),
        help=f"requests in flight at once (default {DEFAULT_BATCH_CONCURRENCY})",
    )
    batch.add_argument(
        "--budget-usd",
        metavar="USD",
        help="the most the whole batch may spend, earlier runs into DIR included",
    )
    batch.add_argument(
        "--max-cost-usd", metavar="USD", help="refuse any request estimated above this"
    )
    batch.add_argument(
        "--retry-uncertain",
        action="store_true",
        help="send again the requests that may have been paid but have no result",
    )
    batch.add_argument(
        "--shard",
        metavar="I/N",
        help="run only shard I of N (1-based, by a hash of the id); merge the shards' "
        "folders with `clawrouter-images merge`",
    )
    merge = commands.add_parser(
        "merge",
        help="Merge batch folders (shards) into one.",
        description="Merge the folders of a batch's shards (or of several runs) into a new "
        "folder: every record of results.jsonl, the images beside them, a contact sheet. "
        "Exit code 0 when every id is ok.",
    )
    merge.add_argument("sources", nargs="+", metavar="DIR", help="batch folders to merge")
    merge.add_argument("-o", "--output", metavar="OUT", help="the new folder (required)")


def _usage(command: str, message: str) -> int:
    print(f"clawrouter-images {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _usd_option(name: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{name} must be a number of USD, 0 or more, not {text!r}")
    return value


def batch_command(args: argparse.Namespace) -> int:
    import asyncio

    from .batch import AsyncBatch, Progress, parse_shard, summary_text

    try:
        if not args.output:
            raise ValueError("-o DIR is required: the folder for images and results")
        if not Path(args.file).is_file():
            raise ValueError(f"input file not found: {args.file}")
        if not args.concurrency.isdigit() or int(args.concurrency) < 1:
            raise ValueError(
                f"--concurrency must be a whole number from 1, not {args.concurrency!r}"
            )
        budget = _usd_option("--budget-usd", args.budget_usd)
        max_cost = _usd_option("--max-cost-usd", args.max_cost_usd)
        shard = parse_shard(args.shard) if args.shard else None
        prepare_save_dir(args.output)
    except ValueError as err:  # InvalidRequestError is a ValueError too
        return _usage("batch", str(err))
    progress = Progress(sys.stderr)

    async def run() -> int:
        async with contextlib.AsyncExitStack() as stack:
            client = None
            if args.emulator:
                with needs_extra("emulator", "the emulator"):
                    from .emulator import Emulator
                from ._client import AsyncImageClient

                emulator = stack.enter_context(Emulator())
                client = AsyncImageClient(emulator.base_url, http_client=emulator.async_client())
            batch = AsyncBatch(
                args.file,
                args.output,
                client=client,
                base_url=args.base_url,
                concurrency=int(args.concurrency),
                budget_usd=budget,
                max_cost_usd=max_cost,
                retry_uncertain=args.retry_uncertain,
                shard=shard,
                observer=progress,
            )
            try:
                async with batch:
                    await batch.wait()
            finally:
                progress.close(batch.summary)
                print(summary_text(batch.summary), flush=True)
            return EXIT_OK if batch.summary.all_ok else EXIT_ERROR

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        fail(
            "interrupted; requests that were in flight may have been paid and are recorded "
            "as uncertain; run the same command to resume",
            None,
            args,
        )
        return EXIT_INTERRUPTED


def merge_command(args: argparse.Namespace) -> int:
    from ._catalog import format_usd
    from ._constants import BATCH_INDEX_NAME, BATCH_RESULTS_NAME
    from ._exceptions import InvalidRequestError
    from .batch import merge_results

    if not args.output:
        return _usage("merge", "-o OUT is required: the new folder to merge into")
    try:
        merged = merge_results(args.output, args.sources)
    except InvalidRequestError as err:
        return _usage("merge", str(err))
    print(
        f"{merged.ok} ok, {merged.failed} failed, {merged.uncertain} uncertain "
        f"({merged.in_several} ids in several folders); {merged.images} images "
        f"({merged.missing_images} missing); estimated spend {format_usd(merged.spent_usd)}\n"
        f"results: {merged.destination / BATCH_RESULTS_NAME}\n"
        f"contact sheet: {merged.destination / BATCH_INDEX_NAME}"
    )
    return EXIT_OK if merged.all_ok else EXIT_ERROR
