"""AdmissionReview v1: parse a request, find the namespace's business unit, build the response.

Which business unit owns a namespace: the `k8s_namespace` hierarchy rules of
allocation_rules.yaml, else an operator's labels file, else the namespace label
`finops.io/business-unit` read from the Kubernetes API. Never from the objects under review.
A namespace of no unit is never blocked.

What is enforced: CREATE of a Deployment, or of a Pod without an owner (a bare pod). Pods created
by a controller (ReplicaSet, Job, ...) for workloads that already exist are allowed with the
warnings, so running services keep self-healing; updates and deletes are always allowed.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from finops_assets.admission.state import Decision

API_VERSION = "admission.k8s.io/v1"
BUSINESS_UNIT_LABEL = "finops.io/business-unit"
ENFORCED_KINDS = ("Pod", "Deployment")


class AdmissionReviewError(ValueError):
    """A request body that is not a valid AdmissionReview v1; answered with HTTP 400."""


@dataclass(frozen=True)
class AdmissionRequest:
    """The fields of an AdmissionReview request the webhook decides on."""

    uid: str
    kind: str
    namespace: str
    operation: str
    object: dict[str, Any]


def parse_admission_review(document: Any) -> AdmissionRequest:
    """The request of an AdmissionReview v1 document; AdmissionReviewError names what is wrong."""
    if not isinstance(document, dict):
        raise AdmissionReviewError("body is not a JSON object (expected an AdmissionReview)")
    if document.get("apiVersion") != API_VERSION or document.get("kind") != "AdmissionReview":
        raise AdmissionReviewError(
            f"expected apiVersion {API_VERSION} and kind AdmissionReview, got "
            f"{document.get('apiVersion')!r} and {document.get('kind')!r}"
        )
    request = document.get("request")
    if not isinstance(request, dict):
        raise AdmissionReviewError("AdmissionReview has no 'request' object")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise AdmissionReviewError("request.uid is missing or not a string")
    kind = request.get("kind")
    if not isinstance(kind, dict) or not isinstance(kind.get("kind"), str):
        raise AdmissionReviewError("request.kind must be an object with a string 'kind'")
    operation = request.get("operation")
    if operation not in ("CREATE", "UPDATE", "DELETE", "CONNECT"):
        raise AdmissionReviewError(f"request.operation {operation!r} is not a Kubernetes operation")
    namespace = request.get("namespace", "")
    if not isinstance(namespace, str):
        raise AdmissionReviewError("request.namespace must be a string")
    obj = request.get("object") or {}
    if not isinstance(obj, dict):
        raise AdmissionReviewError("request.object must be an object or null")
    return AdmissionRequest(uid, kind["kind"], namespace, operation, obj)


def admission_response(uid: str, decision: Decision) -> dict[str, Any]:
    """The AdmissionReview v1 response document for `decision`."""
    response: dict[str, Any] = {"uid": uid, "allowed": decision.allowed}
    if not decision.allowed:
        response["status"] = {"code": 403, "reason": "Forbidden", "message": decision.message}
    if decision.warnings:
        response["warnings"] = list(decision.warnings)
    return {"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response}


class NamespaceDirectory:
    """Namespace -> business unit, from configuration and the API server only (stateless).

    In order: the allocation rules' `k8s_namespace` hierarchy rules, then an operator's labels
    file, then the Namespace's `finops.io/business-unit` label read from the Kubernetes API
    (`labels_lookup`, e.g. KubernetesNamespaceLabels.labels). Nothing is learned from reviews.
    """

    def __init__(
        self,
        namespace_labels: Mapping[str, Mapping[str, str]] | None = None,
        rule_units: Mapping[str, str] | None = None,
        labels_lookup: Callable[[str], Mapping[str, str]] | None = None,
    ) -> None:
        self.labels = {ns: dict(labels) for ns, labels in (namespace_labels or {}).items()}
        self.rule_units = dict(rule_units or {})
        self.labels_lookup = labels_lookup

    def business_unit(self, namespace: str) -> str | None:
        """The unit owning `namespace`, or None; a failed API lookup raises NamespaceLookupError."""
        unit = self.rule_units.get(namespace) or self.labels.get(namespace, {}).get(
            BUSINESS_UNIT_LABEL
        )
        if unit or self.labels_lookup is None or not namespace:
            return unit
        return self.labels_lookup(namespace).get(BUSINESS_UNIT_LABEL) or None


def is_new_workload(request: AdmissionRequest) -> bool:
    """A Deployment being created, or a Pod being created by no controller."""
    if request.operation != "CREATE" or request.kind not in ENFORCED_KINDS:
        return False
    if request.kind == "Pod":
        owners = (request.object.get("metadata") or {}).get("ownerReferences") or []
        return not owners
    return True
