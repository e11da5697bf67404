"""The emulator's stand-in for BlockRun's image API answers, and ClawRouter's localisation.

A request that passes ``_checks`` is paid and answered like the real pair answers:
Google-style models ``{"created","model","data":[{"url"}]}``, OpenAI models
``{"created","data":[{"url","revised_prompt"}]}``, gpt-image-2 on generations with the
completed job's ``id`` and ``status`` too; URLs already localised to
``http://localhost:<port>/images/<file>``, or ``b64_json`` when the body asks for it.
gpt-image-2 on image2image is paid and answered with the queued job's stub
``{"id","status":"queued","poll_url","created"}``, as ClawRouter relays the upstream's 202
there without polling; the model is matched as sent, since ClawRouter forwards it
verbatim and this upstream refuses aliases anyway.  A scripted fault (``_faults``)
replaces that answer.
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Literal

import anyio
import anyio.to_thread

from ._checks import DELISTED, Job, Route, invalid, validate
from ._drawing import UnreadableImageError, render_edit, render_generation
from ._faults import Fault
from ._ledger import Trace
from ._storage import new_file_name
from ._wire import Answer, Drop, DropMidBody, Reply, error_reply, json_reply

if TYPE_CHECKING:
    from ._app import Emulator

ResultMode = Literal["url", "b64", "remote", "dead"]

_NOT_JSON_TEXT = "upstream says hello (this is not JSON)"
# The recorded rejection quotes the wallet's balance in micro-USDC; any small number will do.
_REJECTED_BALANCE_MICROS = 251
# ClawRouter prices a model it does not know at $0.04 x 1.05.
_UNKNOWN_MODEL_MICROS = 42_000
# Pictures up to this many pixels are drawn on the event loop (about 2 ms at 512x512):
# handing them to a worker thread costs more than that (GIL hand-offs).  Larger ones go
# to a thread so that other requests keep flowing.
_INLINE_PIXELS = 512 * 512
# Queued by the upstream (202 + poll_url); only generations polls it to completion.
_QUEUED_MODEL = "openai/gpt-image-2"
# Faults whose answer is a result, so the request must be valid first.
_RESULT_KINDS = frozenset({"slow", "drop_mid_body", "b64_json", "remote_url", "dead_url"})


def _draw(job: Job, index: int) -> bytes:
    if job.route == "image2image":
        prompt = job.prompt if index == 0 else f"{job.prompt} (#{index + 1})"
        return render_edit(prompt, job.images, job.mask, job.width, job.height, job.image_format)
    return render_generation(
        job.prompt, job.width, job.height, job.image_format, index, job.model.id
    )


def _produce(
    emu: Emulator, job: Job, mode: ResultMode, fault: Fault | None
) -> list[dict[str, object]]:
    """Draw the images and place them: local file, base64, upstream host, or nowhere."""
    extension = "jpg" if job.image_format == "jpeg" else job.image_format
    items: list[dict[str, object]] = []
    for index in range(job.n):
        data = _draw(job, index)
        item: dict[str, object]
        if mode == "b64" or (mode == "url" and job.b64):
            item = {"b64_json": base64.b64encode(data).decode()}
        elif mode == "remote":
            name = emu._store.keep_upstream(data, extension)
            url = (
                fault.url
                if fault is not None and fault.url
                else f"https://{emu.upstream_host}/files/{name}"
            )
            item = {"url": url}
        elif mode == "dead":
            item = {"url": f"http://localhost:{emu.port}/images/{new_file_name(extension)}"}
        else:
            item = {"url": f"http://localhost:{emu.port}/images/{emu._store.save(data, extension)}"}
        if job.model.id.startswith("openai/"):
            edited = job.route == "image2image"
            item["revised_prompt"] = (
                f"edited: {job.prompt}" if edited else f"A revised prompt: {job.prompt}"
            )
        items.append(item)
    return items


def _result_body(emu: Emulator, job: Job, items: list[dict[str, object]]) -> dict[str, object]:
    created = int(time.time())
    if job.model.id == _QUEUED_MODEL and job.route == "generations":
        # ClawRouter polled the job to completion and returns the final poll body.
        return {"id": emu._next_job_id(), "status": "completed", "created": created, "data": items}
    if job.model.id.startswith("openai/"):
        return {"created": created, "data": items}
    return {"created": created, "model": job.model_field, "data": items}


async def _result(
    emu: Emulator, job: Job, mode: ResultMode, fault: Fault | None, trace: Trace
) -> Reply:
    if job.model.id == _QUEUED_MODEL and job.route == "image2image":
        # The upstream queues gpt-image-2 and answers the paid retry with 202; ClawRouter's
        # image2image does not poll and returns the job (i2i-gpt-image-2-202-stub).  No
        # picture exists yet, so how it would have been delivered does not matter.
        return _job_stub(emu)
    try:
        if job.width * job.height * job.n <= _INLINE_PIXELS:
            items = _produce(emu, job, mode, fault)
        else:
            items = await anyio.to_thread.run_sync(_produce, emu, job, mode, fault)
    except UnreadableImageError as err:
        # Decoding the inputs is the upstream's validation: refused before payment.
        trace.paid = False
        return invalid(str(err))
    return json_reply(200, _result_body(emu, job, items))


def _rejected_payment(emu: Emulator, trace: Trace) -> dict[str, object]:
    micros = round(trace.estimated_cost_usd * 1_000_000) or _UNKNOWN_MODEL_MICROS
    verdict = {
        "isValid": False,
        "invalidReason": "insufficient_funds",
        "invalidMessage": f"insufficient balance: {_REJECTED_BALANCE_MICROS} < {micros}",
        "payer": emu.wallet,
    }
    return {
        "error": "Payment verification failed",
        "details": f"Verification failed: {json.dumps(verdict)}",
    }


def _fault_reply(emu: Emulator, fault: Fault, route: Route, trace: Trace) -> Reply:
    """The default answer of an error-like fault, before overrides."""
    label = "Image generation failed" if route == "generations" else "Image editing failed"
    kind = fault.kind
    if kind == "payment_rejected":
        return json_reply(402, _rejected_payment(emu, trace))
    if kind == "delisted":
        model = trace.model or "this model"
        return json_reply(
            400,
            {
                "error": fault.details
                or DELISTED.get(model, f"Delisted: {model} is no longer available")
            },
        )
    if kind == "upstream_refused":
        return invalid(fault.details or "upstream: request refused before payment")
    if kind == "invalid_request":
        return invalid(fault.details or "upstream: size not supported")
    if kind == "rate_limited":
        payload: dict[str, object] = {"error": "Rate limit exceeded"}
        if fault.retry_after is not None:
            whole = int(fault.retry_after)
            payload["retry_after"] = whole if whole == fault.retry_after else fault.retry_after
        if fault.details:
            payload["details"] = fault.details
        return json_reply(429, payload)
    if kind == "server_error":
        return error_reply(500, "Internal server error", fault.details or "simulated failure")
    if kind == "generation_failed":
        return error_reply(502, label, fault.details or "content_policy_violation")
    if kind == "upstream_unreachable":
        return error_reply(502, label, fault.details or "fetch failed")
    if kind == "bad_payment_challenge":
        return error_reply(
            502,
            label,
            fault.details
            or "Failed to parse payment requirements: Invalid payment required header",
        )
    if kind == "service_unavailable":
        return error_reply(503, "Service temporarily unavailable", fault.details)
    if kind == "timeout":
        details = fault.details or (
            f"Upstream did not complete within 5 minutes (job id={emu._next_job_id()}). "
            "No payment has been settled."
        )
        return error_reply(504, "Image generation timed out", details)
    if kind == "malformed_json":
        return Reply(200, _NOT_JSON_TEXT.encode())
    if kind == "empty_data":
        return json_reply(200, {"created": int(time.time()), "data": []})
    return _job_stub(emu)


def _job_stub(emu: Emulator) -> Reply:
    """What image2image hands back when the upstream answers 202: the job, unpolled."""
    job_id = emu._next_job_id()
    return json_reply(
        200,
        {
            "id": job_id,
            "status": "queued",
            "poll_url": f"/api/v1/images/jobs/{job_id}",
            "created": int(time.time()),
        },
    )


def _override(reply: Reply, fault: Fault) -> Reply:
    body = reply.body
    content_type = reply.content_type
    if isinstance(fault.body, str):
        body = fault.body.encode()
    elif fault.body is not None:
        body = json.dumps(fault.body, separators=(",", ":"), ensure_ascii=False).encode()
    headers = reply.headers + tuple(fault.headers.items())
    if fault.kind == "rate_limited" and fault.send_retry_after and fault.retry_after is not None:
        headers += (("retry-after", f"{fault.retry_after:g}"),)
    return Reply(fault.status or reply.status, body, content_type, headers, reply.sized)


async def _faulty_answer(
    emu: Emulator, fault: Fault, route: Route, payload: object, valid_json: bool, trace: Trace
) -> Answer:
    trace.fault = fault.kind
    job: Job | Reply | None = None
    if fault.kind in _RESULT_KINDS:
        job = validate(route, payload, valid_json=valid_json, models=emu.models)
        if isinstance(job, Reply):
            trace.paid = bool(fault.paid)
            return job
    # Paid before the wait, so a connection dropped during it is recorded as paid.
    trace.paid = fault.is_paid
    if fault.delay:
        await anyio.sleep(fault.delay)
    if fault.kind == "drop":
        return Drop()
    if isinstance(job, Job):
        mode: ResultMode = {"b64_json": "b64", "remote_url": "remote", "dead_url": "dead"}.get(
            fault.kind, "url"
        )  # type: ignore[assignment]
        reply = await _result(emu, job, mode, fault, trace)
        if fault.kind == "drop_mid_body" and reply.status == 200:
            return DropMidBody(reply)
        return _override(reply, fault) if reply.status == 200 else reply
    return _override(_fault_reply(emu, fault, route, trace), fault)


async def upstream_answer(
    emu: Emulator, route: Route, path: str, payload: object, *, valid_json: bool, trace: Trace
) -> Answer:
    """What ClawRouter passes back after calling the upstream with ``payload``."""
    fault = emu._faults.take(path, trace.model)
    if fault is not None:
        return await _faulty_answer(emu, fault, route, payload, valid_json, trace)
    job = validate(route, payload, valid_json=valid_json, models=emu.models)
    if isinstance(job, Reply):
        return job
    trace.paid = True
    return await _result(emu, job, "url", None, trace)
