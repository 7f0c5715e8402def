"""deploy/terraform is in sync with the source of truth, parses as HCL, and checkov passes it."""

import json
import shutil
import subprocess
from pathlib import Path

import hcl2
import pytest

from finops_assets.security.iam_documents import (
    aws_policy,
    azure_role_definitions,
    gcp_custom_roles,
)
from finops_assets.security.render import main as render_main
from finops_assets.security.terraform import AWS_BUCKET, AWS_PREFIX
from finops_assets_tests.tools import require_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "deploy" / "terraform"
CHECKOV = REPO_ROOT / ".venv-tools" / "bin" / "checkov"
HCL_OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)


def _files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _parse(relative: str) -> dict:
    with (TERRAFORM_DIR / relative).open() as handle:
        return hcl2.load(handle, serialization_options=HCL_OPTIONS)


def _resources(parsed: dict, kind: str) -> dict[str, dict]:
    return {
        name: body for block in parsed["resource"] for name, body in block.get(kind, {}).items()
    }


def test_committed_terraform_is_what_the_generator_writes(tmp_path: Path) -> None:
    assert render_main([str(tmp_path)]) == 0
    generated, committed = _files(tmp_path), _files(TERRAFORM_DIR)
    stale = sorted(
        p for p in generated.keys() | committed.keys() if generated.get(p) != committed.get(p)
    )
    assert stale == [], (
        f"deploy/terraform differs from finops_assets/security/permissions.py in {stale}: run "
        "`.venv/bin/python -m finops_assets.security.render deploy/terraform`"
    )


@pytest.mark.parametrize(
    "relative", sorted(p.relative_to(TERRAFORM_DIR).as_posix() for p in TERRAFORM_DIR.rglob("*.tf"))
)
def test_every_tf_file_parses(relative: str) -> None:
    assert _parse(relative)


def _statement_as_iam(block: dict) -> dict:
    statement = {
        "Sid": block["sid"],
        "Effect": block["effect"],
        "Action": block["actions"],
        "Resource": block["resources"][0] if len(block["resources"]) == 1 else block["resources"],
    }
    for condition in block.get("condition", []):
        tests = statement.setdefault("Condition", {})
        tests.setdefault(condition["test"], {})[condition["variable"]] = condition["values"]
    return statement


def test_parsed_aws_policy_equals_the_source_of_truth() -> None:
    documents = {
        name: body
        for block in _parse("aws/main.tf")["data"]
        for name, body in block["aws_iam_policy_document"].items()
    }
    statements = [_statement_as_iam(s) for s in documents["cost_export_read"]["statement"]]
    assert {"Version": "2012-10-17", "Statement": statements} == aws_policy(AWS_BUCKET, AWS_PREFIX)
    policy = _resources(_parse("aws/main.tf"), "aws_iam_policy")["cost_export_read"]
    assert policy["policy"] == "${data.aws_iam_policy_document.cost_export_read.json}"


def test_parsed_gcp_roles_and_bindings_equal_the_source_of_truth() -> None:
    parsed = _parse("gcp/main.tf")
    roles = _resources(parsed, "google_project_iam_custom_role")
    assert {scope: role["permissions"] for scope, role in roles.items()} == {
        scope: role["includedPermissions"] for scope, role in gcp_custom_roles().items()
    }
    bucket_binding = _resources(parsed, "google_storage_bucket_iam_member")["bucket"]
    assert bucket_binding["role"] == "${google_project_iam_custom_role.bucket.id}"
    assert "google_project_iam_member" in {k for block in parsed["resource"] for k in block}


def test_parsed_azure_roles_equal_the_source_of_truth() -> None:
    definitions = _resources(_parse("azure/main.tf"), "azurerm_role_definition")
    expected = azure_role_definitions(["${var.assignable_scope}"])
    for scope, role in expected.items():
        (permissions,) = definitions[scope]["permissions"]
        assert permissions["actions"] == role["Actions"]
        assert permissions["not_actions"] == role["NotActions"]
        assert permissions["data_actions"] == role["DataActions"]
        assert permissions["not_data_actions"] == role["NotDataActions"]
        assert definitions[scope]["assignable_scopes"] == ["${var.assignable_scope}"]


@pytest.mark.parametrize("provider", ["aws", "gcp", "azure"])
def test_providers_are_pinned_to_a_compatible_range(provider: str) -> None:
    (terraform,) = _parse(f"{provider}/versions.tf")["terraform"]
    (pins,) = terraform["required_providers"]
    assert terraform["required_version"].startswith(">=")
    assert all(pin["version"].startswith("~> ") for pin in pins.values())


_CANARY = """
resource "aws_iam_policy" "canary" {
  #checkov:skip=CKV_AWS_289:canary skip, proves skips and their reasons are reported
  name   = "canary"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }] })
}
"""


@pytest.mark.slow
def test_checkov_passes_the_terraform_and_catches_a_bad_policy(tmp_path: Path) -> None:
    # Not --quiet: quiet output drops skipped checks, and each skip must show its reason.
    require_tool("checkov")  # in .venv-tools: checkov's pins clash with dagster's
    scanned = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_DIR, scanned)
    (scanned / "canary").mkdir()
    (scanned / "canary" / "main.tf").write_text(_CANARY)
    command = [
        str(CHECKOV),
        "-d",
        str(scanned),
        "--compact",
        "-o",
        "json",
        "--skip-download",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode in (0, 1) and run.stdout.startswith(("{", "[")), (
        f"checkov did not run (exit {run.returncode}): {run.stderr[-2000:]}"
    )
    reports = json.loads(run.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [c for r in reports for c in r["results"]["failed_checks"]]
    skipped = [c for r in reports for c in r["results"]["skipped_checks"]]
    outside_canary = [
        (c["check_id"], c["file_path"], c["resource"])
        for c in failed
        if "/canary/" not in c["file_path"]
    ]
    assert outside_canary == [], f"checkov failed checks on deploy/terraform: {outside_canary}"
    assert {"CKV_AWS_62", "CKV_AWS_355"} <= {c["check_id"] for c in failed}, (
        "canary not caught: is checkov working?"
    )
    reasons = {(c["check_id"], c["check_result"].get("suppress_comment")) for c in skipped}
    assert ("CKV_AWS_289", "canary skip, proves skips and their reasons are reported") in reasons
    assert all(reason for _, reason in reasons), f"every checkov skip needs a reason: {reasons}"
    assert all(r["summary"]["parsing_errors"] == 0 for r in reports)
