"""Write the medical part of the embedded sample corpus (``pipeline/sample/medical/``), deterministically.

    .venv/bin/python scripts/make_medical_sample.py

The MEDLINE file is written by hand in ``scripts/sample_texts/medical/pubmed26n0001.xml`` (PubmedArticleSet
layout, modelled on NLM's baseline files) and gzipped here with mtime 0, so two runs give the same bytes. The
PMC articles (``pipeline/sample/medical/pmc/*.nxml``) are hand-written JATS files kept as they are. All
content is fictional (journals, authors, PMIDs 990000xxx, PMCIDs 9900xxx, DOIs under the unassigned 10.99999).
"""

from __future__ import annotations

import gzip
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ROOT / "scripts" / "sample_texts" / "medical"
OUT = ROOT / "pipeline" / "sample" / "medical"
MEDLINE_FILES = ("pubmed26n0001.xml",)


def build(out: Path = OUT) -> list[Path]:
    """Write the gzipped MEDLINE files under ``out/medline``; return their paths."""
    written = []
    (out / "medline").mkdir(parents=True, exist_ok=True)
    for name in MEDLINE_FILES:
        target = out / "medline" / f"{name}.gz"
        target.write_bytes(gzip.compress((TEXTS / name).read_bytes(), compresslevel=9, mtime=0))
        written.append(target)
    return written


if __name__ == "__main__":
    for path in build():
        print(path.relative_to(ROOT))
