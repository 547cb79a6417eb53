"""The stages of the corpus pipeline, in data-flow order (``pipeline.run`` wires them together).

Each is a thin Beam shell around a pure core in ``filters`` or ``core``; ``base`` is what every per-document
stage shares (tagged ``rejected``/``errors`` outputs, counters, routing of failures).

- ``read``: ``ReadSources`` (the connectors of ``sources``, file by file)
- ``extract``: ``Extract`` (RawRecord -> Document, text shape, ``available_at``)
- ``timecut``: ``CutAtTime`` (``--as_of``)
- ``language``: ``IdentifyLanguage``
- ``quality``: ``ScoreQuality``
- ``pii``: ``RedactPII``
- ``decontam``: ``Decontaminate`` (evaluation sets)
- ``boilerplate``: ``RemoveBoilerplate``
- ``dedup``: ``Deduplicate`` (exact, then near), ``UniqueIds``
- ``domain``: ``ClassifyDomain``
- ``mix``: ``AssignDomainAndMix``
- ``write``: ``WriteShards``, ``WriteRecords`` (``rejected/``, ``errors/``)
"""
