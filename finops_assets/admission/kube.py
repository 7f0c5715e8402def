"""Namespace labels from the Kubernetes API (the official `kubernetes` client), cached briefly.

The webhook never learns a namespace's business unit from the objects it is asked to admit (a
forged Namespace review could relabel any namespace). It reads the Namespace from the API server
with its own ServiceAccount, which the manifests allow exactly `get` on namespaces.
"""

import threading
import time
from collections.abc import Callable

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

CACHE_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 2.0
MAX_CACHED = 10_000


class NamespaceLookupError(RuntimeError):
    """The API server could not say what a namespace's labels are (down, forbidden, timeout)."""


class KubernetesNamespaceLabels:
    """`labels(namespace)`: the Namespace's labels read through the API, cached for a while."""

    def __init__(
        self,
        api: client.CoreV1Api,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cache: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def in_cluster(cls) -> "KubernetesNamespaceLabels":
        """From the pod's ServiceAccount token and CA (KUBERNETES_SERVICE_HOST/PORT)."""
        config.load_incluster_config()
        return cls(client.CoreV1Api())

    @classmethod
    def from_kubeconfig(cls, path: str) -> "KubernetesNamespaceLabels":
        """From a kubeconfig file (outside the cluster, e.g. in development)."""
        configuration = client.Configuration()
        config.load_kube_config(config_file=path, client_configuration=configuration)
        return cls(client.CoreV1Api(client.ApiClient(configuration)))

    def labels(self, namespace: str) -> dict[str, str]:
        """The namespace's labels ({} when it does not exist); NamespaceLookupError otherwise."""
        now = self.clock()
        with self._lock:
            cached = self._cache.get(namespace)
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        labels = self._read(namespace)
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[namespace] = (now, labels)
        return labels

    def _read(self, namespace: str) -> dict[str, str]:
        try:
            found = self.api.read_namespace(namespace, _request_timeout=REQUEST_TIMEOUT_SECONDS)
        except ApiException as error:
            if error.status == 404:
                return {}
            raise NamespaceLookupError(
                f"namespace {namespace!r}: Kubernetes API answered {error.status} {error.reason}"
            ) from None
        except Exception as error:  # urllib3 connection, TLS or timeout errors
            raise NamespaceLookupError(
                f"namespace {namespace!r}: Kubernetes API unreachable ({type(error).__name__})"
            ) from None
        metadata = found.metadata
        return {str(k): str(v) for k, v in ((metadata and metadata.labels) or {}).items()}
