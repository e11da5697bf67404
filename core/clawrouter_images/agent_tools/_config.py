"""What the person deploying the tools decides: the offered models, the folders, the caps."""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, InstanceOf, field_validator

from .._catalog import MODELS, ImageModel, resolve_model
from .._constants import (
    CLAWROUTER_IMAGE_DIR,
    DEFAULT_EDIT_MODEL,
    DEFAULT_GENERATE_MODEL,
    PROGRESS_INTERVAL_SECONDS,
)
from .._exceptions import InvalidRequestError


class ImageToolConfig(BaseModel):
    """What the person deploying the tools decides (never the LLM).

    Every adapter takes these same fields (the LangChain tools and toolkit and the
    LlamaIndex spec are subclasses of ``ImageToolSettings``), so each is written once.
    """

    # A misspelt setting (say, max_cost instead of max_cost_usd) must not be dropped silently.
    model_config = ConfigDict(extra="forbid", defer_build=True)

    models: Sequence[str | InstanceOf[ImageModel]] | None = None
    """Models the LLM may choose from: names or ids from the catalogue, or ``ImageModel``s
    for models newer than it (default: every available catalogued model; a delisted or
    unavailable one is offered only if listed here)."""
    default_model: str | InstanceOf[ImageModel] | None = None
    """Model used for generation when the LLM names none (default: nano-banana)."""
    default_edit_model: str | InstanceOf[ImageModel] | None = None
    """Model used for edits when the LLM names none (default: gpt-image)."""
    save_dir: str | Path | None = None
    """Where result images are saved (default: not saved; the LLM gets URLs)."""
    allowed_dirs: Sequence[str | Path] | None = None
    """Folders local input images may come from, besides ``save_dir`` and ClawRouter's
    image directory (default: none; there is no implicit working directory, so with none
    named the LLM can give local paths into those two folders only).  Below a folder,
    ``..`` is taken as written and a path through a symbolic link is refused; the folder's
    own path may hold links.  A root of the file system (``/``) works but warns: it lets
    the LLM send any image on the disk upstream."""
    max_cost_usd: float | None = None
    """Refuse any call estimated above this many USD, before it is sent."""
    budget_usd: float | None = None
    """The most all these tools may spend together, sync and async calls alike (calls in
    flight are reserved); a call that would go over is refused before it is sent."""
    return_image_block: bool = False
    """Also hand each image to a vision model (an image content block)."""
    progress_every_s: float = Field(default=PROGRESS_INTERVAL_SECONDS, gt=0)
    """How often a call in flight reports progress (framework events; see the adapters)."""

    # offered() runs several times a call: kept per list of models (by identity and length,
    # so that assigning a new list, or appending to this one, is seen).  Per-instance state
    # read on every call lives in cached properties, not PrivateAttr: pydantic reads a
    # private attribute through __getattr__ (~2 µs a read), a cached property from __dict__.
    @functools.cached_property
    def _offered(self) -> dict[tuple[bool, int, int], list[ImageModel]]:
        return {}

    def offered(self, *, editing: bool) -> list[ImageModel]:
        """The models offered to the LLM, for generating or for editing."""
        key = (editing, id(self.models), len(self.models or ()))
        found = self._offered.get(key)
        if found is None:
            found = self._offered[key] = self._choose(editing=editing)
        return found

    def _choose(self, *, editing: bool) -> list[ImageModel]:
        if self.models is None:
            chosen = [m for m in MODELS.values() if m.available]
        else:
            # Keyed by id: ImageModel is frozen but not hashable (its prices are a dict).
            chosen = list({m.id: m for m in map(resolve_model, self.models)}.values())
        if editing:
            chosen = [m for m in chosen if m.edits]
        if not chosen:
            kind = "editing" if editing else "generation"
            raise InvalidRequestError(f"no {kind} model among the configured models {self.models}")
        return chosen

    def offers_editing(self) -> bool:
        """Whether any offered model edits images: without one, no adapter offers ``edit_image``."""
        return any(model.edits for model in self.offered(editing=False))

    def default_for(self, *, editing: bool) -> ImageModel:
        offered = self.offered(editing=editing)
        wanted = self.default_edit_model if editing else self.default_model
        if wanted is not None:
            model = self.find(wanted, editing=editing)
            if model is None:
                name = wanted if isinstance(wanted, str) else wanted.id
                raise InvalidRequestError(f"default model {name!r} is not among the offered models")
            return model
        fallback = resolve_model(DEFAULT_EDIT_MODEL if editing else DEFAULT_GENERATE_MODEL)
        return fallback if fallback in offered else offered[0]

    def find(self, name: str | ImageModel, *, editing: bool) -> ImageModel | None:
        """The offered model ``name`` means (id or alias, any case), else None.

        Offered models come first, so a deployer's own ``ImageModel`` is found by its
        aliases too; the catalogue decides only for names none of them has.
        """
        offered = self.offered(editing=editing)
        if isinstance(name, ImageModel):
            return name if name in offered else None
        key = name.strip().lower()
        for model in offered:
            if key in (model.id.lower(), *(alias.lower() for alias in model.aliases)):
                return model
        found = resolve_model(name)
        return found if found in offered else None

    @field_validator("allowed_dirs")
    @classmethod
    def _check_allowed_dirs(cls, dirs: Sequence[str | Path] | None) -> Sequence[str | Path] | None:
        for folder in dirs or ():
            try:
                resolved = Path(folder).expanduser().resolve()
            except RuntimeError as err:
                # "~nosuchuser" or a symlink loop: said to the deployer now, not to the
                # LLM as a crash at its first local path.
                raise ValueError(f"allowed folder {folder!s} cannot be used: {err}") from None
            # A root of the file system is allowed, since a deployer may mean it (a
            # sandboxed container), but never silently.
            if resolved.parent == resolved:
                warnings.warn(
                    f"allowed_dirs includes {folder!s}, a root of the file system: the LLM "
                    "may send any image on this disk upstream",
                    UserWarning,
                    stacklevel=2,
                )
        return dirs

    def folders_named(self) -> bool:
        """Whether the deployer named any folder of their own (``allowed_dirs`` or ``save_dir``)."""
        return bool(self.allowed_dirs) or self.save_dir is not None

    def allowed_roots(self) -> list[Path]:
        """The folders local inputs may come from: ``allowed_dirs``, ``save_dir`` and
        ClawRouter's image directory, never the working directory.  Each as written (made
        absolute) and with its symlinks resolved, so a path is inside whether it is given
        through a symlinked folder or not."""
        dirs = [*(self.allowed_dirs or ())]
        if self.save_dir is not None:
            dirs.append(self.save_dir)
        dirs.append(CLAWROUTER_IMAGE_DIR)
        roots: list[Path] = []
        for folder in dirs:
            # abspath, not resolve(): the folder as written, without touching the file system.
            written = Path(os.path.abspath(Path(folder).expanduser()))  # noqa: PTH100
            for root in (written, written.resolve()):
                if root not in roots:
                    roots.append(root)
        return roots
