"""Which Beam runner a command runs on: shared by ``run``, ``stats`` and ``tokenize``.

``choose_runner`` picks Beam's FnApiRunner itself for ``--runner=DirectRunner`` (so a run behaves the same with
and without internet), as ``LocalRunner``, whose worker processes skip Python's teardown (``pipeline.worker``);
``translation_only`` says when a runner only translates the job graph (a Dataflow
template or a dry run) and nothing runs.
"""

from __future__ import annotations

from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions, TypeOptions

BEAM_WORKER_MODULE = "apache_beam.runners.worker.sdk_worker_main"
WORKER_MODULE = "pipeline.worker"


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

    class LocalRunner(fn_runner.FnApiRunner):
        """Beam's FnApiRunner; in multi_processing mode its worker processes run ``pipeline.worker``."""

        def run_via_runner_api(self, pipeline_proto, options):
            use_project_worker(pipeline_proto)
            return super().run_via_runner_api(pipeline_proto, options)

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    provision = fn_runner.ExtendedProvisionInfo(
        beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)
    )
    mode = options.view_as(DirectOptions).direct_running_mode
    return LocalRunner(provision_info=provision), f"DirectRunner (FnApiRunner, {mode})"


def use_project_worker(pipeline_proto) -> int:
    """Point the pipeline's subprocess environments that run Beam's SDK worker module at ``pipeline.worker`` (same
    Python, same worker, but the process ends without Python's teardown once its harness is done: ~0.7 s per
    worker at the end of every multi-process run, which the runner waits for one worker after the other).

    Only the local runner's job graph is changed, just before it runs: what Dataflow or a template gets is
    untouched. Returns how many environments were changed.
    """
    from apache_beam.portability import python_urns

    beam_tail = f" -m {BEAM_WORKER_MODULE}".encode()
    changed = 0
    for env in pipeline_proto.components.environments.values():
        if env.urn == python_urns.SUBPROCESS_SDK and env.payload.endswith(beam_tail):
            env.payload = env.payload[: -len(beam_tail)] + f" -m {WORKER_MODULE}".encode()
            changed += 1
    return changed


def translation_only(options: PipelineOptions) -> str:
    """Where the job graph goes when the runner only translates (Dataflow template or dry run), else ''."""
    all_options = options.get_all_options()
    if all_options.get("template_location"):
        return str(all_options["template_location"])
    if all_options.get("dry_run"):
        return "dry run"
    return ""
