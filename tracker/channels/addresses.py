"""Which network addresses a partner's webhook may reach: public unicast, however it is spelt.

An address can hide inside another (IPv4-mapped and -compatible IPv6, NAT64, 6to4, Teredo)
or be written in one of the old IPv4 spellings every resolver still accepts (2130706433,
0177.0.0.1, 0x7f.1, 127.1): each is unwrapped and judged by what it really reaches.
"""

from __future__ import annotations

import ipaddress
import re

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated; includes :: and ::1
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known prefix: the last 32 bits are IPv4
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # local-use translation
_NUMBER = re.compile(r"(?:0[xX][0-9a-fA-F]*|[0-9]+)")


def ip_literal(host: str) -> IPAddress | None:
    """The address a URL's host names when it is an IP literal in any spelling, else None.

    Raises ValueError for a host that is numeric but no valid address ("1.2.3.4.5",
    "256.1.1.1"): browsers and resolvers refuse those too, so nothing should guess.
    """
    text = host.strip("[]").split("%", 1)[0]  # an IPv6 zone id names no other address
    if ":" in text:
        return ipaddress.IPv6Address(text)
    labels = text.split(".")
    if labels and labels[-1] == "" and len(labels) > 1:
        labels.pop()  # "127.0.0.1." is the same host
    if not labels or not _NUMBER.fullmatch(labels[-1]):
        return None  # a name, which is resolved and its answers judged instead
    if len(labels) > 4 or not all(_NUMBER.fullmatch(label) for label in labels):
        raise ValueError(f"{host!r} is not a valid IP address")
    numbers = [_number(label) for label in labels]
    last_limit = 256 ** (5 - len(numbers))
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= last_limit:
        raise ValueError(f"{host!r} is not a valid IP address")
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _number(label: str) -> int:
    if label[:2].lower() == "0x":
        return int(label[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        if any(ch in "89" for ch in label):
            raise ValueError(f"{label!r} is not an octal number")
        return int(label, 8)
    return int(label)


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    found: list[ipaddress.IPv4Address] = []
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address in _IPV4_COMPATIBLE or address in _NAT64:
        found.append(low32)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast, and so is every IPv4 address it embeds."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _IPV4_COMPATIBLE or address in _NAT64_LOCAL or address.teredo:
            return False  # deprecated, site-local translation, or a tunnel to anywhere
        if address.is_site_local:
            return False
        inner = embedded_ipv4(address)
        if inner:
            return all(is_public(v4) for v4 in inner)
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_private
        and not address.is_reserved
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_unspecified
    )
