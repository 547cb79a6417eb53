"""The run configuration: one YAML file names the inputs, thresholds and mixing targets.

The embedded default (``pipeline/configs/default.yaml``) is just a config shipped in the package; it points at
the embedded sample corpus. ``--config FILE`` selects another; flags override single values. A relative input
path is resolved against the directory of the config file that names it, so a config and its data travel together.
Every problem is reported as one ``ConfigError`` line that says what is wrong and how to fix it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError
from pipeline.input_options import validate_options
from pipeline.profile import DEFAULT_PROFILE, domains_of, resolve_profile, source_domains_of
from pipeline.schema import SOURCES
from sources import READERS

DEFAULT_CONFIG_NAME = "default.yaml"

TOP_LEVEL_KEYS = {
    "run_name",
    "output_root",
    "inputs",
    "language",
    "quality",
    "pii",
    "dedup",
    "mix",
    "shards",
    "source_domains",
    "boilerplate",
    "domain",
    "decontam",
    "profile",
}

# Which FinPile domain each source belongs to in the finance profile (overridable under `source_domains`);
# another profile places its own `profile.domain_sources` in its domain (pipeline/profile.py).
DEFAULT_SOURCE_DOMAINS = {
    "filings": "financial",
    "press": "financial",
    "news": "financial",
    "social": "financial",
    "web": "general",
    "wikipedia": "general",
    "c4": "general",
    # the medical sources (sources/medical.py) are general text in the finance profile
    "pubmed": "general",
    "pmc": "general",
}


@dataclass(frozen=True)
class InputSpec:
    """One input of a run: a reader kind applied to file patterns, with reader options."""

    name: str
    kind: str
    paths: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass
class Config:
    """A validated run configuration (plain data: it pickles and goes to every worker)."""

    run_name: str
    output_root: str
    inputs: list[InputSpec]
    language: dict[str, Any]
    quality: dict[str, Any]
    pii: dict[str, Any]
    dedup: dict[str, Any]
    mix: dict[str, Any]
    shards: dict[str, Any]
    source_domains: dict[str, str]
    boilerplate: dict[str, Any] = field(default_factory=dict)
    domain: dict[str, Any] = field(default_factory=dict)
    decontam: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)  # the resolved profile (pipeline/profile.py)
    origin: str = ""  # the file it came from, for messages

    def to_dict(self) -> dict[str, Any]:
        """The config as plain data (what the manifest records)."""
        return {
            "run_name": self.run_name,
            "output_root": self.output_root,
            "inputs": [
                {"name": i.name, "kind": i.kind, "paths": list(i.paths), "options": i.options}
                for i in self.inputs
            ],
            "language": self.language,
            "quality": self.quality,
            "pii": self.pii,
            "dedup": self.dedup,
            "mix": self.mix,
            "shards": self.shards,
            "source_domains": self.source_domains,
            "boilerplate": self.boilerplate,
            "domain": self.domain,
            "decontam": self.decontam,
            "profile": self.profile,
        }

    @property
    def config_hash(self) -> str:
        """A stable hash of the effective config (inputs, thresholds, targets)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def domain_of(self, source: str) -> str:
        return self.source_domains.get(source, "general")

    @property
    def domains(self) -> tuple[str, str]:
        """The profile's two domains: its own (``financial``, ``medical``) and ``general``."""
        return domains_of(self.profile)


def default_config_path() -> str:
    """Path of the embedded default config inside the installed package."""
    return str(resources.files("pipeline") / "configs" / DEFAULT_CONFIG_NAME)


def load_config(path: str | None = None) -> Config:
    """Load and validate a config file (the embedded default when ``path`` is None)."""
    path = path or default_config_path()
    if not os.path.isfile(path):
        raise ConfigError(f"config file not found: {path} (pass an existing YAML file to --config)")
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}: fix the syntax there") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must hold a YAML mapping (keys like inputs:, dedup:, mix:)")
    return parse_config(raw, base_dir=str(Path(path).resolve().parent), origin=path)


def parse_config(raw: dict[str, Any], base_dir: str = ".", origin: str = "<dict>") -> Config:
    """Validate a config mapping; relative input paths resolve against ``base_dir``."""
    unknown = sorted(set(raw) - TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(
            f"{origin}: unknown config key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(TOP_LEVEL_KEYS))}"
        )
    raw = copy.deepcopy(raw)
    inputs = [_parse_input(i, n, base_dir, origin) for n, i in enumerate(raw.get("inputs") or [])]
    if not inputs:
        raise ConfigError(f"{origin}: no inputs: add at least one entry under 'inputs:' (kind and paths)")
    names = [i.name for i in inputs]
    if len(set(names)) != len(names):
        raise ConfigError(f"{origin}: input names must be unique, got {names}")

    profile = resolve_profile(raw.get("profile"), origin)
    domains = domains_of(profile)
    defaults = (
        DEFAULT_SOURCE_DOMAINS
        if profile["name"] == DEFAULT_PROFILE
        else source_domains_of(profile, tuple(SOURCES))
    )
    source_domains = {**defaults, **(raw.get("source_domains") or {})}
    for source, domain in source_domains.items():
        if domain not in domains:
            raise ConfigError(
                f"{origin}: source_domains.{source}: domain must be one of {domains} "
                f"(profile {profile['name']}), got {domain!r}"
            )

    cfg = Config(
        run_name=str(raw.get("run_name") or "run"),
        output_root=str(raw.get("output_root") or "output"),
        inputs=inputs,
        language=_section(raw, "language", {"allowed": ["en"], "min_score": 0.6}, origin),
        quality=_section(raw, "quality", {"label_only": False}, origin),
        pii=_section(raw, "pii", {}, origin),
        dedup=_section(raw, "dedup", {}, origin),
        mix=_section(raw, "mix", {}, origin),
        shards=_section(raw, "shards", {"max_rows": 50_000}, origin),
        source_domains=source_domains,
        boilerplate=_section(raw, "boilerplate", {}, origin),
        domain=_section(raw, "domain", {"threshold": 0.5, "sources": ["web", "c4"]}, origin),
        decontam=_section(raw, "decontam", _decontam_defaults(profile["name"]), origin),
        profile=profile,
        origin=origin,
    )
    if profile["name"] != DEFAULT_PROFILE and not cfg.mix.get("domain_targets"):
        cfg.mix["domain_targets"] = {profile["domain"]: 0.5, "general": 0.5}  # half and half, as FinPile
    if cfg.domain.get("model_path"):
        cfg.domain["model_path"] = resolve_path(str(cfg.domain["model_path"]), base_dir)
    if cfg.decontam.get("cache_dir") and not str(cfg.decontam["cache_dir"]).startswith("~"):
        cfg.decontam["cache_dir"] = resolve_path(str(cfg.decontam["cache_dir"]), base_dir)
    for entry in cfg.decontam.get("eval_sets") or []:
        if isinstance(entry, dict) and entry.get("path"):
            entry["path"] = resolve_path(str(entry["path"]), base_dir)
    _validate_values(cfg, origin)
    return cfg


def _decontam_defaults(profile: str = DEFAULT_PROFILE) -> dict[str, Any]:
    """Decontamination is on by default: the profile's evaluation sets (finance: FinPile's), from the fetch cache."""
    from sources.evalsets import PROFILES, sets_of_profile

    sets = sets_of_profile(profile) if profile in PROFILES else ()
    return {"eval_sets": [], "sets": list(sets), "ngram": 13, "mode": "drop"}


def _section(raw: dict[str, Any], key: str, defaults: dict[str, Any], origin: str) -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{origin}: '{key}' must be a mapping, got {type(value).__name__}")
    return {**defaults, **value}


def _parse_input(entry: Any, index: int, base_dir: str, origin: str) -> InputSpec:
    if not isinstance(entry, dict):
        raise ConfigError(f"{origin}: inputs[{index}] must be a mapping with 'kind' and 'paths'")
    kind = entry.get("kind")
    if kind not in READERS:
        raise ConfigError(
            f"{origin}: inputs[{index}]: unknown source kind {kind!r}; known kinds: {', '.join(sorted(READERS))}"
        )
    paths = entry.get("paths")
    if isinstance(paths, str):
        paths = [paths]
    if not paths or not all(isinstance(p, str) for p in paths):
        raise ConfigError(
            f"{origin}: inputs[{index}] ({kind}): 'paths' must be a path or a list of paths/globs"
        )
    options = entry.get("options") or {}
    if not isinstance(options, dict):
        raise ConfigError(f"{origin}: inputs[{index}] ({kind}): 'options' must be a mapping")
    validate_options(kind, options, f"{origin}: inputs[{index}] ({kind})")
    return InputSpec(
        name=str(entry.get("name") or f"{kind}-{index}"),
        kind=kind,
        paths=tuple(resolve_path(p, base_dir) for p in paths),
        options=options,
    )


def resolve_path(path: str, base_dir: str) -> str:
    """Absolute local path for a relative one; URLs such as gs://bucket/x stay as they are."""
    if "://" in path or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base_dir, path))


def _validate_values(cfg: Config, origin: str) -> None:
    from pipeline.language import LanguageConfig

    try:
        LanguageConfig.from_settings(cfg.language)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    targets = cfg.mix.get("domain_targets") or {}
    if targets:
        if set(targets) - set(cfg.domains):
            raise ConfigError(
                f"{origin}: mix.domain_targets keys must be among {cfg.domains} "
                f"(profile {cfg.profile['name']}), got {sorted(targets)}"
            )
        total = sum(float(v) for v in targets.values())
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(f"{origin}: mix.domain_targets must sum to 1.0, got {total:g}")
    priority = cfg.dedup.get("priority") or []
    bad = [s for s in priority if s not in SOURCES]
    if bad:
        raise ConfigError(
            f"{origin}: dedup.priority names unknown source(s) {bad}; known: {', '.join(SOURCES)}"
        )
    threshold = (cfg.dedup.get("near") or {}).get("threshold", 0.8)
    if not isinstance(threshold, int | float) or not 0 < threshold < 1:
        raise ConfigError(f"{origin}: dedup.near.threshold must be in (0, 1), got {threshold!r}")
    from pipeline.decontam import DecontamConfig
    from pipeline.domain import DomainConfig

    DomainConfig.from_settings(cfg.domain)
    DecontamConfig.from_settings(cfg.decontam)
    max_rows = cfg.shards.get("max_rows")
    if not isinstance(max_rows, int) or max_rows < 1:
        raise ConfigError(f"{origin}: shards.max_rows must be a positive integer, got {max_rows!r}")
