"""FinPile Builder: a Beam pipeline that builds FinPile-style pretraining corpora.

This package holds the Beam stages (``read``, ``extract``, ``timecut``, ``language``, ``quality``, ``pii``,
``decontam``, ``boilerplate``, ``dedup``, ``domain``, ``mix``, ``write``; ``stage`` is their shared shell) and the
application (``cli``, ``config``, ``profiles/``, ``run``, ``runner``, the report: ``report``, ``stats``,
``report_html``, ``report_plots``; tools: ``inspect``, ``fetch``, ``tokenize``, ``export_sft``, ``train_domain``).
The shared types are in ``core``; connectors in ``sources``; filter cores in ``filters`` (README "Project layout").
"""

__version__ = "0.2.0"
