"""The priced call: a request validated and priced before anything is sent.

``plan_call`` is the one place a generate or edit call is checked (prompt, model, size,
``n``, the edit's image count and mask, ``extra_body``) and priced against the per-call
cap and the budget.  What it returns, a ``PricedCall``, is what the client sends and what
the agent tools hold their budget for, so a call is priced once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import NamedTuple

import httpx

from . import _constants as c
from ._budget import Budget, usd_limit
from ._catalog import (
    ImageModel,
    describe_call,
    editing_models,
    estimate_cost,
    replacement_for,
    resolve_model,
)
from ._exceptions import BudgetExceededError, InvalidRequestError, quote

TimeoutTypes = float | httpx.Timeout | None
"""A timeout as the clients take it: seconds, an ``httpx.Timeout``, or None for the default."""

# Fields the client manages itself; extra_body may not override them.
_MANAGED_FIELDS = frozenset({"model", "prompt", "size", "n", "image", "mask"})


def as_timeout(timeout: TimeoutTypes) -> httpx.Timeout:
    """``timeout`` as an ``httpx.Timeout``: seconds cap the connect timeout at its default."""
    if timeout is None:
        return c.DEFAULT_TIMEOUT
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise InvalidRequestError(
            f"timeout must be a number of seconds above 0 or an httpx.Timeout, not {quote(repr(timeout), 60)}"
        )
    return httpx.Timeout(timeout, connect=min(timeout, c.DEFAULT_CONNECT_TIMEOUT))


class PricedCall(NamedTuple):
    """One paid call, validated and priced, ready to send.

    A named tuple, not a frozen dataclass: one is made for every call, and a frozen
    dataclass sets each field through ``object.__setattr__``."""

    path: str
    model: ImageModel
    size: str
    n: int
    prompt: str
    estimate: float
    fields: dict[str, object]
    timeout: httpx.Timeout

    @property
    def editing(self) -> bool:
        return self.path == c.IMAGE2IMAGE_PATH

    @property
    def what(self) -> str:
        """How cap and budget messages name this call (``2 x google/nano-banana at 1024x1024``)."""
        return describe_call(self.model, self.size, self.n)

    @property
    def answer_cap(self) -> int:
        """The most bytes its answer may hold: room for ``n`` images sent inline."""
        return self.n * c.MAX_ANSWER_BYTES_PER_IMAGE + c.MAX_ANSWER_OVERHEAD_BYTES

    @property
    def instead(self) -> str:
        """The model to suggest if this one is refused upstream."""
        return replacement_for(self.model, editing=self.editing).id


def plan_call(
    path: str,
    prompt: object,
    *,
    model: str | ImageModel | None,
    size: object,
    n: object,
    max_cost_usd: float | None,
    timeout: httpx.Timeout,
    budget: Budget,
    extra_body: Mapping[str, object] | None = None,
    image: object = None,
    mask: object = None,
    cap_advice: str | None = None,
) -> PricedCall:
    """Validate and price a call; raise before anything is sent.

    ``max_cost_usd`` is the cap in force for this call (the call's own, else the
    client's); ``budget`` is checked, not reserved (``Budget.spending`` reserves).
    ``cap_advice`` ends the refusal of a call over the cap: what its reader can do
    besides a cheaper call (a program can raise the cap; an LLM cannot).
    """
    editing = path == c.IMAGE2IMAGE_PATH
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequestError("prompt must be a non-empty string describing the image")
    if len(prompt) > c.MAX_PROMPT_CHARS:
        raise InvalidRequestError(
            f"prompt is {len(prompt)} characters; at most {c.MAX_PROMPT_CHARS} are accepted"
        )
    check_text("prompt", prompt)
    if model is not None and not isinstance(model, (str, ImageModel)):
        raise InvalidRequestError(f"model must be a string, not {type(model).__name__}")
    found = resolve_model(model or (c.DEFAULT_EDIT_MODEL if editing else c.DEFAULT_GENERATE_MODEL))
    if not found.available:
        instead = replacement_for(found, editing=editing).id
        raise InvalidRequestError(
            f"{found.id} is not available ({found.status_note}); try {instead}"
        )
    if editing and not found.edits:
        editors = ", ".join(m.id for m in editing_models())
        why = f" through ClawRouter ({found.edit_note})" if found.edit_note else ""
        raise InvalidRequestError(f"{found.id} cannot edit images{why}; editing models: {editors}")
    if size is None:
        size = found.default_size
    if not isinstance(size, str):
        raise InvalidRequestError(
            f"size must be a string like '1024x1024', not {quote(repr(size), 60)}"
        )
    size = found.check_size(size)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= found.max_n:
        raise InvalidRequestError(
            f"n must be a whole number from 1 to {found.max_n} for {found.id}"
        )
    if editing:
        _check_edit_inputs(found, _count_images(image), mask is not None)
    fields: dict[str, object] = {"model": found.id, "prompt": prompt, "size": size, "n": n}
    if extra_body:
        fields.update(_extra_fields(extra_body, fields))
    estimate = estimate_cost(found, size, n)
    limit = usd_limit("max_cost_usd", max_cost_usd)
    if limit is not None and estimate > limit:
        raise BudgetExceededError(
            f"{describe_call(found, size, n)} is estimated at ${estimate:.4f}, over "
            f"max_cost_usd=${limit:.4f}; choose a cheaper model or size, fewer images, "
            f"{cap_advice or 'or raise max_cost_usd'}"
        )
    call = PricedCall(path, found, size, n, prompt, estimate, fields, timeout)
    budget.check(call)
    return call


def _extra_fields(
    extra_body: Mapping[str, object], fields: dict[str, object]
) -> Mapping[str, object]:
    if not isinstance(extra_body, Mapping):
        raise InvalidRequestError("extra_body must be a mapping of extra JSON fields")
    clash = sorted(_MANAGED_FIELDS.intersection(extra_body))
    if clash:
        raise InvalidRequestError(
            f"extra_body may not set {', '.join(clash)}; pass them as arguments"
        )
    try:
        # Fail here, not while sending: nothing may be reserved or paid for a bad body.
        # Encoded as httpx will encode it, so a lone surrogate fails here too.
        json.dumps({**fields, **extra_body}, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as err:  # UnicodeEncodeError is a ValueError
        raise InvalidRequestError(
            f"extra_body must hold JSON values and valid text only ({quote(str(err), 120)})"
        ) from None
    return extra_body


def _check_edit_inputs(model: ImageModel, image_count: int, has_mask: bool) -> None:
    if image_count > model.max_input_images:
        raise InvalidRequestError(
            f"{model.id} takes at most {model.max_input_images} input images, not {image_count}"
        )
    if has_mask and not model.can_mask:
        maskers = ", ".join(m.id for m in editing_models(mask=True))
        raise InvalidRequestError(f"{model.id} does not take a mask; models with masks: {maskers}")
    if has_mask and image_count > 1:
        raise InvalidRequestError("a mask applies to a single image; pass one image with a mask")


def check_text(name: str, text: str) -> None:
    """Refuse text that cannot be sent as UTF-8 (a lone surrogate, which JSON and Python
    strings can hold), naming where it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InvalidRequestError(
            f"{name} holds a character that is not valid text (a lone surrogate at position "
            f"{err.start}); remove it or send the text as UTF-8"
        ) from None


def _count_images(image: object) -> int:
    return len(image) if isinstance(image, (list, tuple)) else 1
