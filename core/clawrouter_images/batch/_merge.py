"""Merging the folders of a batch's shards (or of any runs) into one.

Every record of every source is appended to the destination's ``results.jsonl``, in each
source's order, with its images linked (or copied) beside it; so the merged file keeps
what each attempt spent, and an id's status follows the one rule of ``_journal`` (its
best outcome).  A batch run into the merged folder then resumes from it like any other.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import _constants as c
from .._exceptions import InvalidRequestError
from ._journal import OK, UNCERTAIN, Journal, Record, key_of, read_records

_MAX_COLLISIONS = 10_000


@dataclass(frozen=True)
class MergeSummary:
    """What a merge found: ids by status, ids present in several sources, images placed."""

    destination: Path
    ok: int
    failed: int
    uncertain: int
    in_several: int
    images: int
    missing_images: int
    spent_usd: float

    @property
    def all_ok(self) -> bool:
        return not (self.failed or self.uncertain)


def merge_results(
    destination: str | os.PathLike[str], sources: Sequence[str | os.PathLike[str]]
) -> MergeSummary:
    """Merge the batch folders ``sources`` into ``destination`` (a new folder, or one with
    no ``results.jsonl`` yet) and write its contact sheet.  Raises ``InvalidRequestError``
    for a source with no results or a destination that has some."""
    target = Path(destination).expanduser()
    folders = [Path(source).expanduser() for source in sources]
    if not folders:
        raise InvalidRequestError("name at least one batch folder to merge")
    for folder in folders:
        if not (folder / c.BATCH_RESULTS_NAME).is_file():
            raise InvalidRequestError(f"{folder} holds no {c.BATCH_RESULTS_NAME}")
        if folder.resolve() == target.resolve():
            raise InvalidRequestError(f"merge into a new folder, not into the source {folder}")
    if (target / c.BATCH_RESULTS_NAME).exists():
        raise InvalidRequestError(
            f"{target} already holds {c.BATCH_RESULTS_NAME}; merge into a new folder"
        )
    first_source: dict[str, int] = {}
    in_several: set[str] = set()
    images = missing = 0
    with Journal(target) as journal:
        for index, folder in enumerate(folders):
            for _, record in read_records(folder / c.BATCH_RESULTS_NAME):
                key = key_of(record["id"])
                if first_source.setdefault(key, index) != index:
                    in_several.add(key)
                paths = []
                for name in record.get("paths") or []:
                    placed = _place(folder / name, target)
                    if placed is None:
                        missing += 1
                        paths.append(name)
                    else:
                        images += 1
                        paths.append(placed.name)
                journal.write({**record, "paths": paths}, durable=False)
    # Opened again: the merged file read as any run would read it (unanswered sends of a
    # shard that was killed become uncertain), for the counts and the contact sheet.
    from ._engine import BatchSummary
    from ._sheet import write_contact_sheet

    with Journal(target) as journal:
        statuses = [journal.status(key) for key in first_source]
        summary = BatchSummary(target, spent_before_usd=journal.spent_before_usd)
        write_contact_sheet(journal, summary)
    return MergeSummary(
        destination=target,
        ok=statuses.count(OK),
        failed=len(statuses) - statuses.count(OK) - statuses.count(UNCERTAIN),
        uncertain=statuses.count(UNCERTAIN),
        in_several=len(in_several),
        images=images,
        missing_images=missing,
        spent_usd=summary.spent_before_usd,
    )


def _place(source: Path, folder: Path) -> Path | None:
    """``source`` linked (or copied) into ``folder`` under its own name, ``-2`` etc. when
    that is taken; never replacing a file.  None if ``source`` is not there."""
    if not source.is_file():
        return None
    stem, suffix = source.stem, source.suffix
    for attempt in range(_MAX_COLLISIONS):
        final = folder / (f"{stem}{suffix}" if attempt == 0 else f"{stem}-{attempt + 1}{suffix}")
        try:
            os.link(source, final)
            return final
        except FileExistsError:
            continue
        except OSError:
            # Another file system, or no hard links: claim the name, then copy into it.
            try:
                with final.open("xb") as out, source.open("rb") as data:
                    shutil.copyfileobj(data, out)
            except FileExistsError:
                continue
            except BaseException:
                with contextlib.suppress(OSError):
                    final.unlink()
                raise
            return final
    raise InvalidRequestError(f"no free file name for {source.name} in {folder}")


__all__ = ["MergeSummary", "Record", "merge_results"]
