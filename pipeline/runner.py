"""Which Beam runner a command runs on: shared by ``run``, ``stats`` and ``tokenize``.

``choose_runner`` picks Beam's FnApiRunner itself for ``--runner=DirectRunner`` (so a run behaves the same with
and without internet); ``translation_only`` says when a runner only translates the job graph (a Dataflow
template or a dry run) and nothing runs.
"""

from __future__ import annotations

from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions, TypeOptions


def fast_construction(options: PipelineOptions, type_check: bool = False) -> PipelineOptions:
    """Turn off Beam's construction-time type checks unless ``type_check`` (``run --type_check``).

    They compare the declared element types of every producer and consumer while the graph is built: ~1 s of
    every run's start-up (a third of building the graph), for a graph whose shape and types are fixed by this
    project and exercised by its tests. Element types then stay ``Any``: elements travel pickled, as our
    dataclasses do anyway, and the output is the same.
    """
    options.view_as(TypeOptions).pipeline_type_check = type_check
    return options


def choose_runner(options: PipelineOptions):
    """The runner to use. For DirectRunner we pick Beam's FnApiRunner ourselves.

    Beam's DirectRunner would first try the Prism runner (downloading a binary when online) and fall back to
    the FnApiRunner offline: picking it explicitly makes a run behave the same with or without internet. It
    honours --direct_running_mode (in_memory, multi_threading, multi_processing) and --direct_num_workers.
    """
    name = options.view_as(StandardOptions).runner or "DirectRunner"
    if name not in ("DirectRunner", "direct"):
        return name, name
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    provision = fn_runner.ExtendedProvisionInfo(
        beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)
    )
    mode = options.view_as(DirectOptions).direct_running_mode
    return fn_runner.FnApiRunner(provision_info=provision), f"DirectRunner (FnApiRunner, {mode})"


def translation_only(options: PipelineOptions) -> str:
    """Where the job graph goes when the runner only translates (Dataflow template or dry run), else ''."""
    all_options = options.get_all_options()
    if all_options.get("template_location"):
        return str(all_options["template_location"])
    if all_options.get("dry_run"):
        return "dry run"
    return ""
