"""Every default of the package, in one place.

Values that describe ClawRouter itself (port, paths, its 300 s limit) come from
``clawrouter-api.md``; the rest are this client's own policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

ENV_BASE_URL = "CLAWROUTER_BASE_URL"
# ClawRouter's own port variable: honouring it means a user who moved ClawRouter
# to another port does not have to tell us twice.
ENV_PROXY_PORT = "BLOCKRUN_PROXY_PORT"
# ClawRouter binds IPv4 loopback only, so "localhost" can resolve to ::1 and fail.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8402
DEFAULT_BASE_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"

GENERATIONS_PATH = "/v1/images/generations"
IMAGE2IMAGE_PATH = "/v1/images/image2image"
HEALTH_PATH = "/health"
IMAGES_PATH_PREFIX = "/images/"

START_HINT = (
    "start it with `npx @blockrun/clawrouter`, or try offline with `clawrouter-images emulate`"
)

# A slow model (gpt-image-2) is polled upstream for up to 300 s after the paid
# submit, so anything shorter than ~330 s cuts off answers that were paid for.
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 330.0
_DEFAULT_TIMEOUT = {
    "connect": DEFAULT_CONNECT_TIMEOUT,
    "read": DEFAULT_READ_TIMEOUT,
    "write": 60.0,
    "pool": 30.0,
}
# ClawRouter drops a request that stays silent this long, with no response.
CLAWROUTER_IDLE_LIMIT_SECONDS = 300

# Pool limits of the clients this package builds; see _transport.py for the measurements.
MAX_CONNECTIONS = 128
MAX_KEEPALIVE_CONNECTIONS = 8
# Below ClawRouter's 5 s keep-alive timeout, so we never reuse a connection it is closing.
KEEPALIVE_EXPIRY = 4.0

DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A server asking for a longer wait than this is treated as "give up now".
MAX_RETRY_AFTER = 60.0

DEFAULT_GENERATE_MODEL = "google/nano-banana"
DEFAULT_EDIT_MODEL = "openai/gpt-image-1"

# The gateway adds its margin on top of the listed price (ClawRouter logs price x n x 1.05).
GATEWAY_MARGIN = 0.05

MAX_INPUT_IMAGES = 4
# Upstream image APIs take up to 50 MB per input image; anything larger is refused
# locally instead of being base64-inflated and paid for.
MAX_INPUT_IMAGE_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024
# Caps on what the client reads from ClawRouter, counted as the bytes arrive (bodies are
# never decompressed: the client asks for and accepts only identity encoding).  A paid
# answer may carry its images inline as b64_json: allow ~36 MB of image per image asked for.
MAX_ANSWER_BYTES_PER_IMAGE = 48 * 1024 * 1024
MAX_ANSWER_OVERHEAD_BYTES = 1024 * 1024
MAX_HEALTH_BYTES = 1024 * 1024
# Downloads (results, input URLs) read in bounded time: a server dripping a byte a second
# would never trip a per-read timeout.  The paid POST has no such deadline: ClawRouter may
# legitimately stay silent for 300 s while the upstream works.
_DOWNLOAD_TIMEOUT = {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}
DOWNLOAD_DEADLINE_SECONDS = 120.0
MAX_PROMPT_CHARS = 32_000
DOWNLOAD_CHUNK_BYTES = 256 * 1024
# Multiple of 3 so that base64 of consecutive chunks concatenates into valid base64.
BASE64_CHUNK_BYTES = 3 * 64 * 1024

# Longest side of the thumbnails a response shows in a notebook, and how long the preview
# may wait for an image that is not saved yet.
THUMBNAIL_PIXELS = 256
PREVIEW_TIMEOUT_SECONDS = 10.0

# How much of a server body or an input value an error message may quote.
MAX_QUOTED_CHARS = 300
# The most any error message holds, whatever it quotes (the result URLs of a paid answer
# included): an LLM reads it whole.
MAX_MESSAGE_CHARS = 10_000

# Where ClawRouter keeps the images it localises (agent tools may read from it).
CLAWROUTER_IMAGE_DIR = Path("~/.openclaw/blockrun/images")

LOGGER_NAME = "clawrouter_images"
USER_AGENT_PRODUCT = "clawrouter-images"

# Image blocks for vision models, sized so that every major provider takes them as they
# are: Anthropic refuses images over 5 MB of base64 and scales anything past ~1.15 MP
# (1568 px a side) down itself; OpenAI fits high-detail images into 2048 px, then 768 px
# on the short side; Gemini takes 20 MB a request.
VISION_MAX_SIDE = 1568
VISION_MAX_BYTES = 3_750_000  # 5 MB once base64-encoded
# A result is decoded for a small copy of it (a vision block, a thumbnail) only up to this
# many pixels, counted after a JPEG's reduced-scale decode: the catalogue's largest result is
# 4096x4096 (16.8 MP), and a PNG must be decoded whole (~4 bytes a pixel) to be shrunk.
RESULT_MAX_DECODED_PIXELS = 24_000_000

# Pillow is optional: image blocks for vision models, notebook thumbnails, opaque masks.
PILLOW_INSTALL = 'pip install "clawrouter-images[pillow]"'

# The brief's mask convention (white = edit, black = keep) and the upstreams' (alpha 0 =
# edit) meet here: a grey level at or above this counts as white when an opaque mask is
# converted.  Masks larger than this many pixels are refused rather than decoded.
MASK_WHITE_FROM = 128
MAX_MASK_PIXELS = 64_000_000

# How often a tool reports progress while its call is in flight (gpt-image-2 can take 5 min).
PROGRESS_INTERVAL_SECONDS = 5.0

# Batches (``clawrouter-images batch``): what each output folder holds, how many requests
# are in flight at once by default (one wallet pays for all of them, and the upstreams
# rate-limit), and how often a log line is written when stderr is not a terminal.
BATCH_RESULTS_NAME = "results.jsonl"
BATCH_INDEX_NAME = "index.html"
DEFAULT_BATCH_CONCURRENCY = 4
BATCH_LOG_EVERY_SECONDS = 5.0
# A terminal's progress bar is redrawn at most this often; the engine wakes the display
# this often when nothing finishes (a slow model), so the rate and ETA stay current.
BATCH_REDRAW_SECONDS = 0.2
BATCH_TICK_SECONDS = 1.0
# One input line is read whole: a prompt is at most 32,000 characters, and large images
# belong in files named by path, not inline as data URIs.
MAX_BATCH_LINE_BYTES = 8 * 1024 * 1024
MAX_BATCH_ID_CHARS = 200


_TIMEOUTS = {"DEFAULT_TIMEOUT": _DEFAULT_TIMEOUT, "DOWNLOAD_TIMEOUT": _DOWNLOAD_TIMEOUT}


def __getattr__(name: str) -> httpx.Timeout:
    # DEFAULT_TIMEOUT and DOWNLOAD_TIMEOUT as httpx.Timeouts, built on first use: these
    # constants are imported by the agent-tool contract, whose adapters must import
    # without httpx (about half their import time).
    parts = _TIMEOUTS.get(name)
    if parts is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import httpx

    globals()[name] = timeout = httpx.Timeout(**parts)
    return timeout
