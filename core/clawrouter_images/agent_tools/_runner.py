"""Running a tool call for an adapter: the arguments checked, the file policy, the budget,
the call on the sync or async client, saving, and the answer."""

from __future__ import annotations

import functools
import io
import warnings
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from pydantic import ValidationError

from .. import AsyncImageClient, ImageClient
from .._budget import Budget
from .._call import PricedCall
from .._catalog import ImageModel, alias_note
from .._constants import GENERATIONS_PATH, IMAGE2IMAGE_PATH
from .._exceptions import ClawRouterError, InvalidRequestError, paid_result_error
from .._pixels import Unreadable
from .._progress import ImageProgress, awaiting, watching
from .._vision import PILLOW_MISSING, for_vision, pillow_installed
from ._config import ImageToolConfig
from ._declared import TOOLS, ImageTool, OfferedTool, ToolArgs, declared, tool_of
from ._file_policy import check_local_path
from ._results import ResultImage, ToolAnswer, format_result, tool_result
from ._schemas import invalid_arguments

if TYPE_CHECKING:
    from pathlib import Path

    from .._models import ImageResponse


class ImageTools:
    """Runs the two tools for an adapter: validation, policy, the call, saving, the result.

    ``client`` serves sync calls and ``async_client`` async ones (never a thread hop between
    them).  A client that is not injected is built here, for ``base_url``, else an injected
    client's URL, else the environment's; ``close()`` / ``aclose()`` close only those.
    """

    def __init__(
        self,
        config: ImageToolConfig | None = None,
        *,
        client: ImageClient | None = None,
        async_client: AsyncImageClient | None = None,
        base_url: str | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.config = config or ImageToolConfig()
        limit = self.config.budget_usd
        if budget is not None and limit is not None and budget.limit_usd != limit:
            raise InvalidRequestError(
                f"budget_usd={limit} disagrees with the shared budget's {budget.limit_usd}; "
                "give one of them"
            )
        self.budget = budget or Budget(limit, advice=_BUDGET_ADVICE)
        config = self.config
        for name in [*(config.models or ()), config.default_model, config.default_edit_model]:
            note = alias_note(name) if isinstance(name, str) else None
            if note is not None:
                warnings.warn(note, UserWarning, stacklevel=2)
        # Fail at construction, not at the first tool call (where only the LLM would read
        # it), on a bad model list or a save folder that cannot take the images.
        self.config.default_for(editing=False)
        self._save_dir()
        if self.config.return_image_block and not pillow_installed():
            raise InvalidRequestError(PILLOW_MISSING)
        # One injected client tells where ClawRouter is for the other.  Both are built now
        # (well under a millisecond): the environment is read once, and every tool of an
        # adapter shares the same two.
        injected = client or async_client
        if base_url is None and injected is not None:
            # The URL it sends to, credentials included (base_url is the shown form).
            base_url = injected._target_url
        self._owns_client = client is None
        self._owns_async_client = async_client is None
        self.client = client or ImageClient(base_url)
        self.async_client = async_client or AsyncImageClient(base_url)

    def close(self) -> None:
        """Close the sync client if it was built here (injected clients are the caller's)."""
        if self._owns_client:
            self.client.close()

    async def aclose(self) -> None:
        """Close both clients, where they were built here."""
        self.close()
        if self._owns_async_client:
            await self.async_client.aclose()

    # The tools this configuration offers, and the arguments the LLM gives them.

    @functools.cached_property
    def _offered(self) -> dict[str, OfferedTool]:
        return {}

    @property
    def tools(self) -> list[OfferedTool]:
        """The declared tools this configuration offers (``edit_image`` only if an offered
        model edits), each with the schema and description the LLM is shown."""
        return [self.tool(tool.name) for tool in TOOLS if tool.offered(self.config)]

    def tool(self, name: str) -> OfferedTool:
        """The tool declared as ``name``, as this configuration offers it; a tool it cannot
        offer is refused with the reason (no offered model edits)."""
        found = self._offered.get(name)
        if found is None:
            tool = declared(name)
            if tool is None:
                names = ", ".join(each.name for each in TOOLS)
                raise InvalidRequestError(f"unknown tool {name!r}; the tools are {names}")
            # Made once per configuration: the schema is a new pydantic model.
            found = OfferedTool(tool, tool.schema(self.config), tool.description(self.config))
            self._offered[name] = found
        return found

    def parse(self, name: str, raw: Mapping[str, Any]) -> ToolArgs:
        """What the LLM passed tool ``name``, checked against the schema it was shown; a
        wrong argument is refused with the message saying which and why."""
        try:
            return self.tool(name).schema.model_validate(raw)
        except ValidationError as err:
            raise InvalidRequestError(invalid_arguments(err)) from None

    # Argument preparation is shared by the sync and async paths.

    def _model(self, model: str | None, *, editing: bool) -> ImageModel:
        if model is None:
            return self.config.default_for(editing=editing)
        found = self.config.find(model, editing=editing)
        if found is None:
            names = ", ".join(m.alias for m in self.config.offered(editing=editing))
            raise InvalidRequestError(
                f"model {model!r} is not offered by this tool; choose one of: {names}"
            )
        return found

    def _images(
        self, argument: str, image: str | list[str]
    ) -> str | io.BytesIO | list[str | io.BytesIO]:
        """URLs as they are, local files read (see ``check_local_path``); a refusal names
        the argument (``mask``, ``image[1]``)."""
        roots = self.config.allowed_roots()
        named = self.config.folders_named()
        if isinstance(image, list):
            return [
                check_local_path(item, roots, folders_named=named, argument=f"{argument}[{i}]")
                for i, item in enumerate(image)
            ]
        return check_local_path(image, roots, folders_named=named, argument=argument)

    def _save_dir(self) -> Path | None:
        """The save folder, created and proven writable: checked before each paid call, so
        a folder that cannot take the images costs nothing (the LLM would retry, and pay)."""
        if self.config.save_dir is None:
            return None
        from .._files import prepare_save_dir  # with the first save, as the client loads it

        return prepare_save_dir(self.config.save_dir)

    def _answer(
        self, response: ImageResponse, paths: list[Path], fetched: list[bytes]
    ) -> ToolAnswer:
        """The text, the artifact, and (if asked) each image sized for a vision model."""
        images: list[ResultImage] = []
        notes: list[str] = []
        shown = len(response.data) if self.config.return_image_block else 0
        for index in range(shown):
            # Saved and paid for: a failed copy for the model must not lose the result.
            try:
                data = paths[index].read_bytes() if paths else fetched[index]
            except OSError as err:
                reason = err.strerror or type(err).__name__
                notes.append(f"(image {index + 1} is not shown to you: {reason})")
                continue
            copy = for_vision(data)
            if isinstance(copy, Unreadable):
                notes.append(f"(image {index + 1} is not shown to you: it {copy.reason})")
                continue
            small, mime = copy
            images.append(ResultImage(mime_type=mime, data=small))
        text = "\n".join([format_result(response, paths), *notes])
        return ToolAnswer(text, tool_result(response, paths), images)

    # Typed entry points: the adapters hand over the checked arguments (see ``parse``), and
    # the same preparation (policy, save folder, price) runs before either client is called.

    def _prepared(
        self, args: ToolArgs, client: ImageClient | AsyncImageClient
    ) -> tuple[ImageTool, PricedCall, dict[str, Any], Path | None]:
        """The tool, the call priced once (by the client's own rule, against these tools'
        budget), its image inputs after the file policy, and the save folder."""
        tool = tool_of(args)
        images = {
            name: None if value is None else self._images(name, value)
            for name, value in args.images().items()
        }
        call = client._plan(
            IMAGE2IMAGE_PATH if tool.editing else GENERATIONS_PATH,
            args.prompt,
            model=self._model(args.model, editing=tool.editing),
            size=args.size or None,
            n=args.n,
            max_cost_usd=self.config.max_cost_usd,
            timeout=None,
            extra_body=None,
            image=images.get("image"),
            mask=images.get("mask"),
            budget=self.budget,
            cap_advice=_CAP_ADVICE,
        )
        return tool, call, images, self._save_dir()

    def run(
        self, args: ToolArgs, on_progress: Callable[[ImageProgress], None] | None = None
    ) -> ToolAnswer:
        """Run the tool whose arguments ``args`` are; while the call is in flight,
        ``on_progress`` hears how it goes every ``progress_every_s`` seconds."""
        tool, call, images, directory = self._prepared(args, self.client)
        tick = _ticks(tool, call.model, on_progress)
        with (
            self.budget.spending(call),
            watching(tick, self.config.progress_every_s),
        ):
            response = self.client._call(call, **images)
        return self._finish(response, directory)

    async def arun(
        self,
        args: ToolArgs,
        on_progress: Callable[[ImageProgress], Awaitable[None] | None] | None = None,
    ) -> ToolAnswer:
        """``run`` on the async client (never a thread hop to the sync one); progress
        comes from a timer task beside the request."""
        client = self.async_client
        tool, call, images, directory = self._prepared(args, client)
        tick = _ticks(tool, call.model, on_progress)
        with self.budget.spending(call):
            sent = client._call(call, **images)
            response = await awaiting(sent, tick, self.config.progress_every_s)
        return await self._afinish(response, directory)

    def _finish(self, response: ImageResponse, directory: Path | None) -> ToolAnswer:
        paths: list[Path] = []
        try:
            paths = self.client.save(response, directory) if directory is not None else []
            fetched: list[bytes] = []
            if self.config.return_image_block and not paths:
                fetched = [self.client.download(item) for item in response.data]
            return self._answer(response, paths, fetched)
        except Exception as err:
            _raise_kept(err, response, paths)

    async def _afinish(self, response: ImageResponse, directory: Path | None) -> ToolAnswer:
        paths: list[Path] = []
        client = self.async_client
        try:
            paths = await client.save(response, directory) if directory is not None else []
            fetched: list[bytes] = []
            if self.config.return_image_block and not paths:
                fetched = [await client.download(item) for item in response.data]
            if not self.config.return_image_block:
                return self._answer(response, paths, fetched)
            # Sizing images for a vision model decodes them, CPU-heavy: a worker thread
            # (asyncio or trio alike) does it while the event loop keeps serving.
            from anyio import to_thread

            return await to_thread.run_sync(self._answer, response, paths, fetched)
        except Exception as err:
            _raise_kept(err, response, paths)


_ReportT = TypeVar("_ReportT")


def _ticks(
    tool: ImageTool, model: ImageModel, report: Callable[[ImageProgress], _ReportT] | None
) -> Callable[[float], _ReportT] | None:
    """``report`` as a tick of the elapsed seconds, wording what is happening."""
    if report is None:
        return None

    def tick(elapsed: float) -> _ReportT:
        message = f"{tool.doing} with {model.id}: {elapsed:.1f} s so far"
        return report(ImageProgress(tool.name, model.id, round(elapsed, 1), message))

    return tick


# What an LLM can do about a refusal (it cannot raise a cap or a budget).
_BUDGET_ADVICE = (
    "Choose a cheaper model or size, or fewer images, if one fits what is left; otherwise "
    "tell the user the image budget is used up and do not call the image tools again."
)
_CAP_ADVICE = "or ask the user whether to spend more"


def _raise_kept(err: Exception, response: ImageResponse, paths: list[Path]) -> NoReturn:
    """Raise a failure after the paid answer arrived as an error whose message lists its URLs."""
    if isinstance(err, ClawRouterError) and err.result is response:
        raise err  # save() already said so
    raise paid_result_error(err, response, [str(p) for p in paths]) from err
