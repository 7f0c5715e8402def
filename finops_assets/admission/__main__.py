"""`python -m finops_assets.admission --cert tls.crt --key tls.key --port 8443`.

The token that guards POST /events is read from FINOPS_ADMISSION_EVENTS_TOKEN (never argv).
"""

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from finops_assets.admission.review import NamespaceDirectory
from finops_assets.admission.server import AdmissionWebhook, current_utc_month, make_server
from finops_assets.domain.rules import SHIPPED_RULES_PATH, load_rules_file


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m finops_assets.admission", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--cert", type=Path, required=True, help="TLS certificate (PEM)")
    parser.add_argument("--key", type=Path, required=True, help="TLS private key (PEM)")
    parser.add_argument("--host", default="0.0.0.0", help="listen address (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=8443, help="listen port (default 8443)")
    parser.add_argument(
        "--rules", type=Path, default=SHIPPED_RULES_PATH, help="allocation rules YAML"
    )
    parser.add_argument(
        "--namespace-labels",
        type=Path,
        help="YAML mapping namespace -> labels (e.g. finops.io/business-unit: payments)",
    )
    parser.add_argument("--state-file", type=Path, help="keep the enforcement state here")
    parser.add_argument(
        "--month", help="enforce budgets of this YYYY-MM (default: the current UTC month)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Start the webhook and serve until interrupted."""
    args = _parser().parse_args(argv)
    labels: dict[str, dict[str, str]] = {}
    if args.namespace_labels:
        labels = yaml.safe_load(args.namespace_labels.read_text(encoding="utf-8")) or {}
        if not isinstance(labels, dict):
            raise SystemExit(f"{args.namespace_labels}: expected a mapping namespace -> labels")
    directory = NamespaceDirectory(labels, load_rules_file(args.rules).namespace_units())
    month = args.month
    webhook = AdmissionWebhook(
        directory,
        events_token=os.environ.get("FINOPS_ADMISSION_EVENTS_TOKEN", ""),
        month=(lambda: month) if month else current_utc_month,
        state_file=args.state_file,
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
