"""Google Cloud Storage as a Dagster resource that builds its client on use, not at start.

dagster-gcp's GCSResource puts a built `storage.Client` on the run's context when the resource
is initialized: as a resource the landing reads nest, every run (of any source) would need Google
credentials. GcsClientResource is the same resource (the GCS sensor and the gs:// reads call
`get_client()`), whose initialization builds nothing: a run that reads no gs:// location never
builds a Google client. Credentials and STORAGE_EMULATOR_HOST come from google-auth's chain.
"""

from typing import Any

from dagster_gcp import GCSResource


class GcsClientResource(GCSResource):
    """GCS for the gs:// export sensor and reads; the client is built by `get_client()` only."""

    def get_object_to_set_on_execution_context(self) -> Any:
        """The resource itself (GCSResource would build a client here, at initialization)."""
        return self
