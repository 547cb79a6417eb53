"""PII redaction with regular expressions plus validity checks, per-source policy.

Kinds and placeholders (``PLACEHOLDERS``): ``email`` -> ``<EMAIL>``, ``phone`` -> ``<PHONE>``,
``ip_address`` -> ``<IP_ADDRESS>``, ``ssn`` -> ``<SSN>``, ``card_number`` -> ``<CARD_NUMBER>``.

What counts as a match (chosen so that the numbers of financial text survive: tickers, CUSIPs, CIKs, SEC
accession numbers, dollar amounts, dates, section and rule numbers, percentages, zip codes, large numbers):

- e-mail: ``local@domain.tld`` with a 2+ letter TLD. Obfuscated forms ("name [at] host") are not handled.
- phone: US/NANP numbers with separators, ``(212) 555-1234``, ``212-555-1234``, ``212.555.1234``,
  ``+1 212 555 1234``, ``1-800-555-1234`` (area code and exchange start with 2-9); international numbers
  only with a leading ``+`` and 8-15 digits in all (E.164), e.g. ``+44 20 7946 0958``, ``+33 1 23 45 67 89``.
  Bare digit runs (``2125551234``) are never phones: CIKs and other identifiers look the same. A ``+``
  sequence mixing ``.`` with other separators (``+12.5 13.2 14.1``) is read as numbers, not a phone.
- ip_address: IPv4 dotted quads with octets 0-255 and no leading zeros; IPv6 validated with ``ipaddress``
  and at least two non-empty groups and four hex digits (so ``::``, ``::1`` and slices like ``[::2]``
  stay). A dotted quad is also what a 4-part version number looks like: we redact ``1.2.3.4`` as an IP
  (a missed address is a leak, a masked version number costs little) unless a version word or a
  ``Name/`` product token comes right before it (``version 1.2.3.4``, ``v 10.0.0.1``, ``Chrome/120.0.0.0``).
- ssn: ``AAA-GG-SSSS`` with a valid area (not 000, 666, 900-999), group (not 00) and serial (not 0000).
  Space-separated or unseparated forms only right after "SSN", "social security (number|no.)" or "SS#":
  without separators a CUSIP (``037833100``) is nine digits too, and table rows can read "125 12 2024".
- card_number: 13-19 digits, bare or grouped 4-4-4-4(-3), 4-6-5 or 4-6-4 with one kind of separator,
  an issuer prefix and length of a major network (Visa, Mastercard, Amex, Diners, JCB, Discover, UnionPay)
  and a valid Luhn checksum. The issuer check matters: flattened filing tables produce bare digit runs such
  as "2025202420252024" (four year headers), which pass Luhn by chance one time in ten.

Policies: every kind for every source, except ``filings``: only ``ssn`` and ``card_number``. A filing's
e-mail addresses, phone numbers and officer names are the public contact data of a registrant, which
filings exist to publish; redacting them would only damage the text.

Passes run in the order e-mail, card, SSN, phone, IPv6, IPv4; placeholders contain no digits, so a later
pass never re-matches an earlier replacement. ``redact`` returns the new text and the number of
replacements per kind (only kinds with at least one replacement).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import ConfigError

KINDS = ("email", "phone", "ip_address", "ssn", "card_number")
PLACEHOLDERS = {
    "email": "<EMAIL>",
    "phone": "<PHONE>",
    "ip_address": "<IP_ADDRESS>",
    "ssn": "<SSN>",
    "card_number": "<CARD_NUMBER>",
}

# A match must not continue a number or word on either side ("[.,]\d" after: not a decimal's integer part).
_END = r"(?![\w\-–]|[.,]\d)"

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?![\w-])"
)
_CARD = re.compile(
    r"(?<![\w-])(?:\d{13,19}"
    r"|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?"
    r"|\d{4}([ -])\d{6}\2\d{4,5})" + _END
)
_SSN_DASHED = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}" + _END)
_SSN_IN_CONTEXT = re.compile(
    r"(?i)(?:\bssn|\bsocial\s+security(?:\s+(?:number|no\.?|#))?|\bss\s?#)\s*(?:[:#]|is|was)?\s*"
    r"(?P<ssn>(?!000|666|9\d\d)\d{3}( ?)(?!00)\d{2}\2(?!0000)\d{4})" + _END
)
_SEP = "[ .\\-–\u00a0]"  # space, dot, hyphen, en dash, no-break space (not newlines: table cells)
_PHONE_US = re.compile(
    rf"(?<![\w+.\-–])(?:\+?1{_SEP}?)?(?:\([2-9]\d{{2}}\){_SEP}?|[2-9]\d{{2}}{_SEP})[2-9]\d{{2}}{_SEP}\d{{4}}"
    + _END
)
_INTL_SEP = "(?:[ \u00a0]?[.\\-–/][ \u00a0]?|[ \u00a0])?"  # "+49 - (40) - 300 30 - 1141", "+49 40/300"
_PHONE_INTL = re.compile(
    rf"(?<![\w+])\+[1-9]\d{{0,2}}(?:{_INTL_SEP}(?:\(\d{{1,4}}\)|\d{{1,5}})){{2,7}}" + _END
)
_IPV6_CANDIDATE = re.compile(r"(?<![\w:.])(?=[0-9A-Fa-f]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}(?![\w:])")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.\d)")
_VERSION_CONTEXT = re.compile(r"(?i)(?:\b(?:version|ver|release|build|firmware|v)\.?\s*|[A-Za-z]/)$")


def luhn_valid(digits: str) -> bool:
    """Luhn checksum of a digit string (payment card numbers)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# Issuer prefixes (IIN ranges) and lengths of the major networks: (first, last prefix, prefix length, lengths).
_CARD_ISSUERS: tuple[tuple[int, int, int, frozenset[int]], ...] = (
    (4, 4, 1, frozenset({13, 16, 19})),  # Visa
    (51, 55, 2, frozenset({16})),  # Mastercard
    (2221, 2720, 4, frozenset({16})),  # Mastercard 2-series
    (34, 34, 2, frozenset({15})),  # American Express
    (37, 37, 2, frozenset({15})),  # American Express
    (300, 305, 3, frozenset({14, 16, 19})),  # Diners Club
    (36, 36, 2, frozenset({14, 16, 19})),  # Diners Club
    (38, 39, 2, frozenset({16, 19})),  # Diners Club
    (3528, 3589, 4, frozenset({16, 17, 18, 19})),  # JCB
    (6011, 6011, 4, frozenset({16, 19})),  # Discover
    (644, 649, 3, frozenset({16, 19})),  # Discover
    (65, 65, 2, frozenset({16, 19})),  # Discover
    (62, 62, 2, frozenset({16, 17, 18, 19})),  # UnionPay
)


def _card_issuer_ok(digits: str) -> bool:
    return any(
        len(digits) in lengths and lo <= int(digits[:width]) <= hi for lo, hi, width, lengths in _CARD_ISSUERS
    )


def _is_card(match: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", match.group(0))
    return _card_issuer_ok(digits) and luhn_valid(digits)


def _is_intl_phone(match: re.Match[str]) -> bool:
    s = match.group(0)
    n_digits = sum(c.isdigit() for c in s)
    separators = set(re.findall(r"[.\-–/]|\s", s))
    return 8 <= n_digits <= 15 and not ("." in separators and len(separators) > 1)


def _is_ipv6(match: re.Match[str]) -> bool:
    s = match.group(0)
    groups = [g for g in s.split(":") if g]
    if len(groups) < 2 or sum(map(len, groups)) < 4:
        return False
    try:
        ipaddress.IPv6Address(s)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class PiiPolicy:
    """Which PII kinds to redact: a default set and per-source sets."""

    default: frozenset[str] = frozenset(KINDS)
    sources: dict[str, frozenset[str]] = field(
        default_factory=lambda: {"filings": frozenset({"ssn", "card_number"})}
    )

    def __post_init__(self) -> None:
        for where, kinds in [("default", self.default), *self.sources.items()]:
            unknown = sorted(set(kinds) - set(KINDS))
            if unknown:
                raise ConfigError(f"pii policy {where}: unknown kind(s) {unknown}; choose from {list(KINDS)}")

    def kinds_for(self, source: str) -> frozenset[str]:
        """The kinds redacted in documents of ``source``."""
        return self.sources.get(source, self.default)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> PiiPolicy:
        """From ``{"default": [kinds], "sources": {"filings": [kinds]}}``; given sources replace the built-ins."""
        d = dict(d or {})
        unknown = sorted(set(d) - {"default", "sources"})
        if unknown:
            raise ConfigError(f"pii policy: unknown key(s) {unknown}; expected default, sources")
        base = cls()
        default = frozenset(d["default"]) if "default" in d else base.default
        sources = dict(base.sources)
        for source, kinds in (d.get("sources") or {}).items():
            if isinstance(kinds, str) or not isinstance(kinds, list | tuple | set | frozenset):
                raise ConfigError(f"pii policy sources.{source}: expected a list of kinds, got {kinds!r}")
            sources[source] = frozenset(kinds)
        return cls(default=default, sources=sources)


def _is_ipv4(match: re.Match[str]) -> bool:
    # Not an address when a version word or a "Product/" token comes right before it.
    return _VERSION_CONTEXT.search(match.string, max(0, match.start() - 20), match.start()) is None


# What every match of a pass contains (a pass whose text has none of it has nothing to replace). These start with
# a digit or a literal, so ``re`` scans for them with its fast first-character search, where the passes
# themselves (led by a lookbehind) are tried at every position: most texts are ruled out at a fraction of a pass.
_HAS_AT = re.compile("@")
_HAS_CARD = re.compile(r"\d{4}(?:\d{9}|[ -]\d{4}[ -]\d{4}|[ -]\d{6})")  # 13 digits, 4-4-4 or 4-6
_HAS_SSN_DASHED = re.compile(r"\d{3}-\d{2}-\d{4}")
_HAS_SSN_UNDASHED = re.compile(r"\d{3} ?\d{2} ?\d{4}")  # the number after "SSN", "social security", "SS#"
_HAS_PHONE_US = re.compile(rf"\d{{3}}{_SEP}\d{{4}}")  # exchange and line number
_HAS_PLUS_DIGIT = re.compile(r"\+[1-9]")
_HAS_TWO_COLONS = re.compile(r":[0-9A-Fa-f]*:")
_HAS_DOTTED_QUAD = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d")

# (kind, pattern, validator or None, group to replace: 0 = the whole match, what every match contains or None)
_Pass = tuple[str, re.Pattern[str], Callable[[re.Match[str]], bool] | None, str | int, re.Pattern[str] | None]
_PASSES: tuple[_Pass, ...] = (
    ("email", _EMAIL, None, 0, _HAS_AT),
    ("card_number", _CARD, _is_card, 0, _HAS_CARD),
    ("ssn", _SSN_DASHED, None, 0, _HAS_SSN_DASHED),
    ("ssn", _SSN_IN_CONTEXT, None, "ssn", _HAS_SSN_UNDASHED),
    ("phone", _PHONE_US, None, 0, _HAS_PHONE_US),
    ("phone", _PHONE_INTL, _is_intl_phone, 0, _HAS_PLUS_DIGIT),
    ("ip_address", _IPV6_CANDIDATE, _is_ipv6, 0, _HAS_TWO_COLONS),
    ("ip_address", _IPV4, _is_ipv4, 0, _HAS_DOTTED_QUAD),
)


class PiiRedactor:
    """Replaces PII with placeholders according to a per-source ``PiiPolicy``. Stateless; pickles."""

    def __init__(self, policy: PiiPolicy | None = None):
        self.policy = policy or PiiPolicy()

    def redact(self, text: str, source: str) -> tuple[str, dict[str, int]]:
        """``(redacted text, {kind: replacements})`` for ``text`` from ``source``; counts only kinds found."""
        kinds = self.policy.kinds_for(source)
        counts: dict[str, int] = {}
        for kind, pattern, valid, group, needed in _PASSES:
            if kind not in kinds or (needed is not None and needed.search(text) is None):
                continue
            text, n = _sub(pattern, text, PLACEHOLDERS[kind], valid, group)
            if n:
                counts[kind] = counts.get(kind, 0) + n
        return text, counts


def _sub(
    pattern: re.Pattern[str],
    text: str,
    placeholder: str,
    valid: Callable[[re.Match[str]], bool] | None,
    group: str | int,
) -> tuple[str, int]:
    """``pattern.sub`` that skips matches failing ``valid`` and counts the replacements."""
    n = 0

    def replace(m: re.Match[str]) -> str:
        nonlocal n
        if valid is not None and not valid(m):
            return m.group(0)
        n += 1
        if group == 0:
            return placeholder
        start, end = m.span(group)
        return text[m.start() : start] + placeholder + text[end : m.end()]

    return pattern.sub(replace, text), n
