"""`python -m finops_assets.admission --cert tls.crt --key tls.key --port 8443`.

The token that guards POST /events and GET /state is read from FINOPS_ADMISSION_EVENTS_TOKEN
(never argv); without it the webhook refuses to start unless --insecure-dev-no-token is given.
It listens on 127.0.0.1 unless --host says otherwise (in a pod: --host 0.0.0.0).
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from finops_assets.admission.kube import KubernetesNamespaceLabels
from finops_assets.admission.review import NamespaceDirectory
from finops_assets.admission.server import AdmissionWebhook, current_utc_month, make_server
from finops_assets.domain.rules import SHIPPED_RULES_PATH, load_rules_file
from finops_assets.domain.strict_yaml import load_strict_yaml
from finops_assets.settings import admission_events_token


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m finops_assets.admission", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--cert", type=Path, required=True, help="TLS certificate (PEM)")
    parser.add_argument("--key", type=Path, required=True, help="TLS private key (PEM)")
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8443, help="listen port (default 8443)")
    parser.add_argument(
        "--rules", type=Path, default=SHIPPED_RULES_PATH, help="allocation rules YAML"
    )
    parser.add_argument(
        "--namespace-labels",
        type=Path,
        help="YAML mapping namespace -> labels (e.g. finops.io/business-unit: payments)",
    )
    parser.add_argument(
        "--kubernetes-namespaces",
        choices=("off", "in-cluster", "kubeconfig"),
        default="off",
        help="read namespace labels from the Kubernetes API (in-cluster: the pod's ServiceAccount)",
    )
    parser.add_argument(
        "--kubeconfig", help="kubeconfig file for --kubernetes-namespaces kubeconfig"
    )
    parser.add_argument(
        "--insecure-dev-no-token",
        action="store_true",
        help="development only: start without FINOPS_ADMISSION_EVENTS_TOKEN (anyone may post)",
    )
    parser.add_argument("--state-file", type=Path, help="keep the enforcement state here")
    parser.add_argument(
        "--month", help="enforce budgets of this YYYY-MM (default: the current UTC month)"
    )
    return parser


def _labels_lookup(args: argparse.Namespace) -> Callable[[str], dict[str, str]] | None:
    if args.kubernetes_namespaces == "in-cluster":
        return KubernetesNamespaceLabels.in_cluster().labels
    if args.kubernetes_namespaces == "kubeconfig":
        if not args.kubeconfig:
            raise SystemExit("--kubernetes-namespaces kubeconfig needs --kubeconfig PATH")
        return KubernetesNamespaceLabels.from_kubeconfig(args.kubeconfig).labels
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Start the webhook and serve until interrupted."""
    args = _parser().parse_args(argv)
    labels: dict[str, dict[str, str]] = {}
    if args.namespace_labels:
        labels = load_strict_yaml(args.namespace_labels.read_text(encoding="utf-8"), "labels") or {}
        if not isinstance(labels, dict):
            raise SystemExit(f"{args.namespace_labels}: expected a mapping namespace -> labels")
    directory = NamespaceDirectory(
        labels, load_rules_file(args.rules).namespace_units(), _labels_lookup(args)
    )
    month = args.month
    token = admission_events_token()
    if not token and not args.insecure_dev_no_token:
        print(
            "refusing to start: FINOPS_ADMISSION_EVENTS_TOKEN is not set, so anyone could post "
            "budget events (--insecure-dev-no-token allows it in development)",
            file=sys.stderr,
        )
        return 2
    if not token:
        print("WARNING: no events token: /events and /state accept anyone", file=sys.stderr)
    webhook = AdmissionWebhook(
        directory,
        events_token=token,
        month=(lambda: month) if month else current_utc_month,
        state_file=args.state_file,
        allow_unauthenticated=args.insecure_dev_no_token,
    )
    server = make_server(webhook, args.host, args.port, args.cert, args.key)
    print(f"finops admission webhook on https://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
