"""How a shared Kubernetes cluster's cost splits over namespaces: the k8s_usage driver options.

Default = AWS split cost allocation for EKS
(https://docs.aws.amazon.com/cur/latest/userguide/example-split-cost-allocation-data.html):
a pod counts max(request, usage), and resources are priced with relative unit weights
9 per vCPU-hour : 1 per GB-hour ("derived from per vCPU per hour and per GB per hour prices in
AWS Fargate"). basis `resource_units` applies the weights to the amounts (core-seconds and
GiB-seconds); basis `shares` blends each resource's share of the day (today's 1:1 = 0.5 CPU
share + 0.5 memory share). Shared namespaces (kube-system, monitoring...) are spread over the
other namespaces, proportionally or evenly.

GPUs (AWS, https://docs.aws.amazon.com/cur/latest/userguide/example-accelerated-instances.html):
"a relative ratio of GPU:(cpu: memory) of 9:1", CPU and memory then 9:1 between them, so per
GPU-second : core-second : GiB-second the weights are 90 : 9 : 1. Without an explicit `gpu`
weight a rule gets 9 x (cpu + memory), the same ratio for any CPU:memory weights.

Idle (node capacity minus what pods hold, k8s_idle) is shared by `idle`: proportional (the
default, today's split: idle follows the pods' weights), even (equal parts to the namespaces),
namespaces (equal parts to the named ones), or keep (a line of its own for the business unit
named by the rule, `idle` unless `{keep: UNIT}` names another).
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

BASES = ("resource_units", "shares")
SHARED_SPLITS = ("proportional", "even")
IDLE_POLICIES = ("proportional", "even", "keep", "namespaces")
GPU_TO_CPU_MEMORY = Decimal(9)  # AWS: GPU 9 : (CPU + memory) 1


@dataclass(frozen=True)
class K8sSplit:
    """Resource weights, their basis, and which namespaces are shared and how they spread."""

    cpu: Decimal = Decimal(9)
    memory: Decimal = Decimal(1)
    basis: str = "resource_units"
    shared_namespaces: tuple[str, ...] = ()
    shared_split: str = "proportional"
    gpu: Decimal | None = None  # None: GPU_TO_CPU_MEMORY x (cpu + memory)
    idle: str = "proportional"
    idle_namespaces: tuple[str, ...] = ()  # idle: namespaces
    idle_unit: str | None = None  # idle: keep

    @property
    def gpu_weight(self) -> Decimal:
        """Weight per GPU-second: the rule's, or AWS's 9 x (cpu + memory)."""
        return self.gpu if self.gpu is not None else GPU_TO_CPU_MEMORY * (self.cpu + self.memory)


AWS_SPLIT = K8sSplit()


def _weight(name: str, raw: Any) -> Decimal:
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise ValueError(f"k8s.weights.{name}: {raw!r} is not a number") from exc
    if not value.is_finite() or value < 0:
        raise ValueError(f"k8s.weights.{name}: must be a number >= 0, not {raw!r}")
    return value


def parse_k8s_split(raw: Any) -> K8sSplit:
    """The `k8s:` block of a k8s_usage shared rule -> K8sSplit; a bad value raises ValueError."""
    if raw is None:
        return AWS_SPLIT
    if not isinstance(raw, dict):
        raise ValueError("k8s: must be a mapping")
    weights = raw.get("weights") or {}
    if not isinstance(weights, dict):
        raise ValueError("k8s.weights: must be a mapping {cpu: N, memory: N, gpu: N}")
    cpu = _weight("cpu", weights.get("cpu", AWS_SPLIT.cpu))
    memory = _weight("memory", weights.get("memory", AWS_SPLIT.memory))
    if cpu + memory <= 0:
        raise ValueError("k8s.weights: cpu and memory cannot both be 0")
    basis = raw.get("basis", AWS_SPLIT.basis)
    if basis not in BASES:
        raise ValueError(f"k8s.basis: {basis!r} is not one of {BASES}")
    split = raw.get("shared_split", "proportional")
    if split not in SHARED_SPLITS:
        raise ValueError(f"k8s.shared_split: {split!r} is not one of {SHARED_SPLITS}")
    shared = raw.get("shared_namespaces") or []
    if not isinstance(shared, list) or not all(isinstance(n, str) and n for n in shared):
        raise ValueError("k8s.shared_namespaces: must be a list of namespace names")
    names = tuple(sorted({n.lower() for n in shared}))
    gpu = _weight("gpu", weights["gpu"]) if weights.get("gpu") is not None else None
    idle, idle_namespaces, idle_unit = _parse_idle(raw.get("idle", "proportional"))
    return K8sSplit(
        cpu, memory, str(basis), names, str(split), gpu, idle, idle_namespaces, idle_unit
    )


def _parse_idle(raw: Any) -> tuple[str, tuple[str, ...], str | None]:
    """`idle:` -> (policy, namespaces, kept unit); a bad value raises ValueError."""
    usage = "k8s.idle: must be proportional, even, keep, {keep: UNIT} or {namespaces: [NAME, ...]}"
    if raw in ("proportional", "even"):
        return str(raw), (), None
    if raw == "keep":
        return "keep", (), "idle"
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ValueError(f"{usage}, not {raw!r}")
    if "keep" in raw:
        unit = raw["keep"]
        if not isinstance(unit, str) or not unit:
            raise ValueError(f"{usage}: keep needs a business unit name")
        return "keep", (), unit
    names = raw.get("namespaces")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"{usage}: namespaces needs a non-empty list of names")
    return "namespaces", tuple(sorted({n.lower() for n in names})), None
