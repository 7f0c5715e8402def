# Code location image: the finops_assets package and its definitions, served over gRPC.
# The Dagster webserver and daemon run from the official dagster images (Helm chart); run and
# step pods (K8sRunLauncher, k8s_job_executor) start from this image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    FINOPS_PROFILE=production

WORKDIR /opt/dagster/app
COPY pyproject.toml setup.cfg README.md ./
COPY finops_assets ./finops_assets
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /opt/dagster finops \
    && mkdir -p "$DAGSTER_HOME" \
    && chown -R finops "$DAGSTER_HOME"
COPY deploy/dagster/dagster.yaml $DAGSTER_HOME/dagster.yaml

USER finops
EXPOSE 4000
# The startup check fails the pod with one clear message when the database or bucket is wrong.
# The Helm chart replaces this command with its own `dagster api grpc` line for the same module.
CMD ["sh", "-c", "finops check && exec dagster code-server start -h 0.0.0.0 -p 4000 -m finops_assets.definitions"]
