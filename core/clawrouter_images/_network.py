"""Where the client may connect: the one rule for URLs it did not choose itself.

An LLM (or a manipulated server) picks input URLs and result URLs; the client fetches
them.  Deciding by the URL's *spelling* loses: ``127.1``, ``0x7f000001``, ``2130706433``,
``[::ffff:127.0.0.1]`` and any host name that resolves to this machine all reach
loopback.  So the rule is decided by *address*, at the moment of connecting:

- the host is resolved once, every address it resolves to must be public (not
  loopback, private, link-local, unspecified, multicast or reserved, nor an IPv6 form
  embedding such an IPv4 address), and the connection goes to the address that was
  checked, so a second DNS answer (rebinding) cannot slip in between;
- ClawRouter's own results are the one exception, and only as ClawRouter writes them
  (``http://localhost|127.0.0.1|[::1]:<port>/images/<name>``): they are fetched from the
  client's base URL, never from the host and port the text names.

The guard (``_guard``, loaded with the first foreign client: it needs httpcore) sits in
the network backend of the httpx clients this package builds for foreign URLs;
``literal_refusal`` applies the same address rule to IP literals before anything is
sent, which also covers an ``http_client`` the caller injected.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Iterator

import httpx

from ._constants import IMAGES_PATH_PREFIX

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# How ClawRouter writes the URL of an image it stored (clawrouter-api.md section 6).
CLAWROUTER_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# ClawRouter deletes every other character from the name before reading the file.
_IMAGE_NAME = re.compile(r"[A-Za-z0-9._-]+")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def parse_url(text: str) -> httpx.URL | None:
    """``text`` as a URL whose host can be read, or None: the one place URL text from an
    LLM or a server is parsed.

    httpx raises more than ``InvalidURL`` on hostile text (``idna``'s ``IDNAError`` for
    ``xn--a``, some only when ``.host`` is first read), so any failure means "not a
    URL" here rather than an untyped error in an agent.
    """
    try:
        url = httpx.URL(text)
        url.host  # noqa: B018 - decoded lazily, where an IDNA error would surface later
    except Exception:
        return None
    return url


def shown_url(url: str | httpx.URL) -> str:
    """``url`` as it may be shown (messages, reprs, logs): without user name and password."""
    parsed = url if isinstance(url, httpx.URL) else parse_url(url)
    if parsed is None:
        return "(not a URL)"
    return str(parsed.copy_with(userinfo=b"")) if parsed.userinfo else str(parsed)


def clawrouter_image_path(url: httpx.URL) -> str | None:
    """``/images/<name>`` when ``url`` is a result as ClawRouter writes it, else None."""
    if url.scheme != "http" or url.host not in CLAWROUTER_HOSTS or url.userinfo:
        return None
    raw = url.raw_path.decode("ascii").partition("?")[0]
    name = raw.removeprefix(IMAGES_PATH_PREFIX)
    if raw == name or not _IMAGE_NAME.fullmatch(name) or name.strip(".") == "":
        return None
    return IMAGES_PATH_PREFIX + name


def address_refusal(address: IPAddress) -> str | None:
    """Why the client must not connect to ``address`` on an LLM's or a server's say-so, or None."""
    if isinstance(address, ipaddress.IPv6Address):
        # Forms that carry an IPv4 address inside reach that IPv4 address.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            reason = address_refusal(embedded)
            if reason is not None:
                return reason
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        # Shared address space (100.64/10) and the rest of what is not globally routable.
        ("not public", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def literal_address(host: str) -> IPAddress | None:
    """The address an IP-literal host names, in every spelling the C resolver accepts.

    ``127.1``, ``0x7f000001``, ``2130706433`` and ``0177.0.0.1`` are all 127.0.0.1 to
    ``getaddrinfo``; ``ipaddress`` alone knows only the dotted-quad form.
    """
    text = host.strip("[]").partition("%")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if not text or not re.fullmatch(r"[0-9a-fA-FxX.]+", text):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def literal_refusal(url: httpx.URL) -> str | None:
    """The address rule for what the URL's text alone shows (IP literals, ``localhost``)."""
    host = url.host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback"
    address = literal_address(host)
    return address_refusal(address) if address is not None else None


def blocked(err: BaseException) -> bool:
    """Whether an httpx error is the address rule refusing a connection (see ``_guard``)."""
    return any(getattr(e, "address_rule", False) for e in (err, err.__cause__))


# -- URLs in answers and in text an LLM reads ---------------------------------------------

# Browsers, CDNs and LLM context windows all stop well before this: a longer "URL" from
# the server is no link anyone can use, only a flood of text.
MAX_URL_CHARS = 2048
# Printable ASCII only: a URL with other characters (a right-to-left override, a lookalike
# letter) is percent-encoded by whoever means it; white space, quotes and brackets end it.
_HTTP_URL = re.compile(r"https?://[!#-&(-;=?-\[\]_a-z~]+", re.IGNORECASE)
_DATA_IMAGE = re.compile(r"data:image/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,", re.IGNORECASE)
# How far error messages look for URLs in an answer they could not use.
# http(s)://, no user info, a host of letter-digit-hyphen labels none of which is an IDNA
# A-label ("xn--", which may not decode) or starts or ends with a hyphen, an optional port
# of digits, then the end, a path, a query or a fragment.
_PLAIN_HOST = re.compile(
    r"https?://(?!(?:[^/?#]*[.])?xn--)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*"
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?::[0-9]{1,5})?(?:$|[/?#])",
    re.IGNORECASE,
)
_MAX_SHOWN_URLS = 4
_MAX_WALK = 2000


def usable_url(value: object) -> str | None:
    """``value`` if it is a URL this package may fetch, save from or show, else None."""
    if not isinstance(value, str):
        return None
    if _DATA_IMAGE.match(value):
        return value
    if len(value) > MAX_URL_CHARS:
        return None
    return _usable_http(value)


# A result URL is asked about where the answer is read, again where it is shown and where
# it is kept (a few times a call): a pure answer about a short string, so the last few are
# kept (data URIs, megabytes each, never reach this).
@functools.lru_cache(maxsize=64)
def _usable_http(value: str) -> str | None:
    if not _HTTP_URL.fullmatch(value):
        return None
    if _PLAIN_HOST.match(value):
        # A host of plain labels (as every result URL ClawRouter writes has) is one httpx
        # reads: parsing the whole URL again would double what reading an answer costs.
        return value
    parsed = parse_url(value)
    return value if parsed is not None and parsed.host else None


def linkable(url: str | None) -> bool:
    """Whether a result URL may be shown as a link (to an LLM, in a notebook): usable, and
    not inline data."""
    return url is not None and not url.startswith("data:") and usable_url(url) is not None


def _strings(value: object) -> Iterator[str]:
    """Every string inside ``value``, breadth first, a bounded number of nodes."""
    queue = [value]
    seen = 0
    while queue and seen < _MAX_WALK:
        node = queue.pop(0)
        seen += 1
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            queue.extend(node.values())
        elif isinstance(node, list):
            queue.extend(node)


def found_urls(body: object) -> list[str]:
    """The http(s) URLs an answer holds anywhere (a few), for a message that must not lose
    them: each is usable (``usable_url``), so it is short and safe to show."""
    urls: list[str] = []
    for text in _strings(body):
        for match in _HTTP_URL.finditer(text[: MAX_URL_CHARS * _MAX_SHOWN_URLS * 4]):
            url = usable_url(match.group().rstrip(".,;:)]}"))
            if url is not None and url not in urls:
                urls.append(url)
                if len(urls) == _MAX_SHOWN_URLS:
                    return urls
    return urls
