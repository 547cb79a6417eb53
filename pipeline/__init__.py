"""FinPile Builder: a Beam pipeline that builds FinPile-style pretraining corpora.

This package holds the application: ``cli`` (the commands), ``config`` (the typed config) and ``profiles/``,
``run`` (builds and runs the pipeline, writes the manifest) and ``runner``, the report (``report``, ``stats``,
``report_html``, ``report_plots``) and the other commands (``inspect``, ``fetch``, ``tokenize``, ``export_sft``,
``train_domain``). The Beam stages are in ``pipeline.stages``, the shared types in ``core``, the connectors in
``sources`` and the filter cores in ``filters`` (README "Project layout").
"""

__version__ = "0.2.0"
