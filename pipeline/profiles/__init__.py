"""Domain profiles: what makes a corpus financial (FinPile) or medical, in one named bundle.

Nothing else in the pipeline is specific to a domain: a profile is a config file plus its models. It names

- the profile's **domain** (``financial``, ``medical``; the other domain is always ``general``) and the
  **sources that vouch for it** (``domain_sources``: their documents are in the domain by origin; every other
  source is general unless the domain classifier moves a document);
- the **domain classifier** (``domain.model_path``: a fastText model whose positive label is
  ``__label__<domain>``), the **evaluation sets** (``decontam``), the **quality and PII policy per source**
  (``quality``, ``pii``), the **mix targets** (``mix``) and the dedup source priority (``dedup.priority``),
  all ordinary config sections of the profile's config file;
- the report's **reference table** (``profile.reference``): the published composition the report's
  composition table shows beside the run's own (BloombergGPT's FinPile for ``finance``).

This folder is the profiles: ``<name>.yaml`` is a profile's config (with its ``profile:`` section) and
``models/`` holds their domain classifiers (with their model cards). ``finance`` (``finance.yaml``) is the
embedded default config; ``FINANCE`` below is its ``profile:`` section, which a config without one follows (so
every config written before profiles means what it meant). ``python -m pipeline run --profile medical``
selects one; ``--config FILE`` takes any config, whose ``profile:`` section (or its absence) says which profile
it follows. Dropping a ``<name>.yaml`` here makes ``<name>`` a ``--profile`` name.
"""

from __future__ import annotations

import copy
import os
from importlib import resources
from typing import Any

from core.errors import ConfigError

DEFAULT_PROFILE = "finance"
GENERAL_DOMAIN = "general"
PROFILE_KEYS = {"name", "domain", "domain_sources", "reference"}
REFERENCE_KEYS = {"label", "title", "shares", "note", "span", "span_name"}


def profiles_dir() -> str:
    """The folder of the shipped profile configs (``pipeline/profiles``)."""
    return str(resources.files("pipeline") / "profiles")


def default_config_path() -> str:
    """The embedded default config: the ``finance`` profile's (``pipeline/profiles/finance.yaml``)."""
    return os.path.join(profiles_dir(), f"{DEFAULT_PROFILE}.yaml")


def _shipped_config(path: str) -> dict[str, Any]:
    """A shipped profile's config file, as written."""
    import yaml

    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _profile_section(path: str) -> dict[str, Any]:
    """The ``profile:`` section of a shipped profile's config file, as written."""
    return _shipped_config(path)["profile"]


# The finance profile (FinPile), from its config file: what a config without a ``profile:`` section follows
# (configs and runs made before profiles existed), and where the schema's defaults come from: no module
# outside the profile names a domain.
_FINANCE_CONFIG: dict[str, Any] = _shipped_config(default_config_path())
FINANCE: dict[str, Any] = _FINANCE_CONFIG["profile"]
DEFAULT_DOMAIN: str = FINANCE["domain"]
# The finance profile's mix (BloombergGPT's FinPile shares): the defaults of a config without ``mix:``.
DEFAULT_DOMAIN_TARGETS: dict[str, float] = dict(_FINANCE_CONFIG["mix"]["domain_targets"])
DEFAULT_SOURCE_TARGETS: dict[str, dict[str, float]] = {
    domain: dict(shares) for domain, shares in _FINANCE_CONFIG["mix"]["source_targets"].items()
}


def profile_names() -> list[str]:
    """Every shipped profile: ``finance`` and one per ``pipeline/profiles/*.yaml``."""
    names = {DEFAULT_PROFILE}
    folder = profiles_dir()
    if os.path.isdir(folder):
        names.update(f[: -len(".yaml")] for f in os.listdir(folder) if f.endswith(".yaml"))
    return sorted(names)


def profile_domains() -> tuple[str, ...]:
    """The values of the schema's ``domain``: every shipped profile's own domain (finance first), then
    ``general``. A profile file dropped into ``pipeline/profiles/`` brings its domain with it."""
    domains = [DEFAULT_DOMAIN]
    for name in profile_names():
        if name != DEFAULT_PROFILE:
            domain = _profile_section(profile_config_path(name)).get("domain")
            if isinstance(domain, str) and domain and domain not in domains and domain != GENERAL_DOMAIN:
                domains.append(domain)
    return (*domains, GENERAL_DOMAIN)


def profile_config_path(name: str) -> str:
    """The config file of a shipped profile; ``ConfigError`` (one line) for an unknown name."""
    path = os.path.join(profiles_dir(), f"{name}.yaml")
    if not name or "/" in name or not os.path.isfile(path):
        raise ConfigError(
            f"--profile: unknown profile {name!r}; choose one of: {', '.join(profile_names())} "
            "(or pass your own config file with --config)"
        )
    return path


def load_profile(name: str) -> dict[str, Any]:
    """The resolved profile of a shipped profile name (its config's ``profile:`` section alone, so that a
    profile whose model is still to be trained can name what to train)."""
    import yaml

    path = profile_config_path(name)
    with open(path, encoding="utf-8") as f:
        raw = yaml.safe_load(f) or {}
    return resolve_profile(raw.get("profile") if isinstance(raw, dict) else None, path)


def resolve_profile(raw: Any, origin: str = "<config>") -> dict[str, Any]:
    """The full profile of a config's ``profile:`` section (None: finance), validated; ``ConfigError`` else.

    Keys a section leaves out come from the built-in profile of the same name (only ``finance`` is built in),
    so ``profile: {name: finance}`` is the whole finance profile.
    """
    if raw is None:
        return copy.deepcopy(FINANCE)
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: 'profile' must be a mapping (name, domain, domain_sources, reference)")
    unknown = sorted(set(raw) - PROFILE_KEYS)
    if unknown:
        raise ConfigError(
            f"{origin}: unknown key(s) under profile: {', '.join(unknown)}; allowed: {', '.join(sorted(PROFILE_KEYS))}"
        )
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{origin}: profile.name must be a non-empty string, e.g. medical")
    base = copy.deepcopy(FINANCE) if name == FINANCE["name"] else {"name": name, "reference": {}}
    profile = {**base, **copy.deepcopy(raw)}
    domain = profile.get("domain")
    if not isinstance(domain, str) or not domain.strip() or domain == GENERAL_DOMAIN:
        raise ConfigError(
            f"{origin}: profile.domain must name the profile's domain (e.g. medical), not {domain!r}"
        )
    sources = profile.get("domain_sources")
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise ConfigError(
            f"{origin}: profile.domain_sources must be a list of source names, e.g. [pubmed, pmc]"
        )
    reference = profile.get("reference") or {}
    if not isinstance(reference, dict) or set(reference) - REFERENCE_KEYS:
        raise ConfigError(
            f"{origin}: profile.reference must be a mapping with keys among {', '.join(sorted(REFERENCE_KEYS))}"
        )
    shares = reference.get("shares") or {}
    if not isinstance(shares, dict) or not all(isinstance(v, int | float) for v in shares.values()):
        raise ConfigError(
            f"{origin}: profile.reference.shares must map '<domain>/<source>' or '<domain>' to a percentage"
        )
    domains = {domain, GENERAL_DOMAIN}
    bad = sorted(k for k in shares if str(k).split("/", 1)[0] not in domains)
    if bad:
        raise ConfigError(
            f"{origin}: profile.reference.shares: {', '.join(bad)} name no domain of this profile "
            f"({', '.join(sorted(domains))})"
        )
    profile["reference"] = {
        "label": str(reference.get("label") or "Reference %"),
        "title": str(reference.get("title") or "the reference composition"),
        "shares": {str(k): float(v) for k, v in shares.items()},
        "note": str(reference.get("note") or ""),
    }
    span = reference.get("span")
    if span is not None:
        if not (isinstance(span, list) and len(span) == 2 and all(isinstance(y, int) for y in span)):
            raise ConfigError(
                f"{origin}: profile.reference.span must be [first_year, last_year], got {span!r}"
            )
        profile["reference"]["span"] = span
        profile["reference"]["span_name"] = str(reference.get("span_name") or profile["name"])
    return profile


def domains_of(profile: dict[str, Any]) -> tuple[str, str]:
    """The two domains of a profile: its own, then ``general``."""
    return profile["domain"], GENERAL_DOMAIN


def source_domains_of(profile: dict[str, Any], sources: tuple[str, ...]) -> dict[str, str]:
    """The default source -> domain map of a profile: its domain sources in its domain, the rest general."""
    own = set(profile["domain_sources"])
    return {s: profile["domain"] if s in own else GENERAL_DOMAIN for s in sources}


def reference_of(config: dict[str, Any] | None) -> dict[str, Any]:
    """The report's reference table (label, title, shares, note) of a run's recorded config (a manifest's
    ``config``); FinPile's for a run without a profile (finance runs made before profiles)."""
    profile = (config or {}).get("profile") or FINANCE
    return profile.get("reference") or FINANCE["reference"]


DOMAINS: tuple[str, ...] = profile_domains()
