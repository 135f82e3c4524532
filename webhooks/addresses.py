"""A receiver's address: a webhook URL must be http(s) and resolve only to public addresses, none of
them the console's own host, unless WEBHOOKS_ALLOW_PRIVATE_ADDRESSES is on. Checked when a webhook is
saved (webhooks/receivers.py) and again at every attempt (webhooks/delivery.py: DNS can change)."""

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.http.request import validate_host


class UnsafeUrl(Exception):
    """A receiver URL the console refuses to call; the message says why, for a form or the log."""


def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (a test may replace this)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(url: str, *, own_hosts: Iterable[str] = ()) -> tuple[SplitResult, list[str]]:
    """The URL's parts and the addresses to call; raises UnsafeUrl with the reason otherwise."""
    parts = _parse(url)
    host = parts.hostname or ""
    allow_private = settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES
    if not allow_private and _is_own_host(host, own_hosts):
        raise UnsafeUrl(f"{host} is this console's own address: a webhook must call another server.")
    try:
        addresses = resolve(host, parts.port or default_port(parts))
    except (OSError, UnicodeError) as error:
        raise UnsafeUrl(_lookup_failure(host, error)) from None
    if not addresses:
        raise UnsafeUrl(f"The host name {host} resolves to no address.")
    if not allow_private:
        for address in addresses:
            why = _why_not_public(address)
            if why:
                shown = host if host == address else f"{host} resolves to {address}, which"
                raise UnsafeUrl(
                    f"{shown} is {why}: webhooks may only call public addresses "
                    "(an administrator can allow private ones with WEBHOOKS_ALLOW_PRIVATE_ADDRESSES=1)."
                )
    return parts, addresses


# getaddrinfo's answers for a name that does not exist (or has no address), whatever the platform calls them.
_NO_SUCH_NAME = {getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA", "EAI_ADDRFAMILY") if hasattr(socket, name)}


def _lookup_failure(host: str, error: OSError | UnicodeError) -> str:
    """Why a name could not be looked up, in words (not "[Errno -2] Name or service not known")."""
    if isinstance(error, UnicodeError):
        return f"{host} is not a valid host name: check the spelling of the address."
    if isinstance(error, socket.gaierror) and error.errno in _NO_SUCH_NAME:
        return f"The name {host} could not be found in DNS: check the spelling of the address."
    if isinstance(error, socket.gaierror) and error.errno == socket.EAI_AGAIN:
        return f"The name {host} could not be looked up: the DNS server did not answer. Try again in a minute."
    reason = (error.strerror or str(error)).lower()
    return f"The name {host} could not be looked up ({reason}). Try again in a minute."


def _parse(url: str) -> SplitResult:
    try:
        parts = urlsplit(url.strip())
        parts.port  # raises on a port that is not a number in range
    except ValueError as error:
        raise UnsafeUrl(f"This is not a valid URL ({error}).") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("A webhook URL must start with https:// (or http://).")
    if not parts.hostname:
        raise UnsafeUrl("A webhook URL needs a host name, as in https://example.com/hooks/sims.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("Leave user names and passwords out of the URL: receivers check the signature instead.")
    return parts


def default_port(parts: SplitResult) -> int:
    return 443 if parts.scheme == "https" else 80


def _is_own_host(host: str, own_hosts: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    patterns = [h for h in settings.ALLOWED_HOSTS if h != "*"]
    patterns += [h.rsplit(":", 1)[0] if not h.endswith("]") else h for h in own_hosts]
    return validate_host(host, [p.lower().strip("[]") for p in patterns])


def _why_not_public(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:  # fec0::/10: deprecated, but still routed inside some networks
        return "a site-local address"
    if ip.is_unspecified or ip.is_reserved:
        return "a reserved address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:  # shared (carrier-grade NAT), documentation and other special ranges
        return "a reserved address"
    return ""
