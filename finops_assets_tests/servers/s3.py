"""A moto S3 server on 127.0.0.1 (server mode, real HTTP) and the settings that point at it.

moto runs in a child process, not in a thread of the test process: deltalake's
`DeltaTable.is_deltatable` blocks holding the GIL, so an in-process ThreadedMotoServer could
never answer it (measured: the first call hung).
"""

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3

REGION = "us-east-1"
AUTH_FREE_CALLS = 3  # CreateUser, CreateAccessKey, PutUserPolicy (iam_access_key)


@dataclass(frozen=True)
class S3Server:
    """The endpoint of the test server and the AWS_* variables that reach it."""

    endpoint: str

    def env(self) -> dict[str, str]:
        """What a deployment sets: settings.py copies AWS_* into Delta storage options."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }

    def new_bucket(self) -> str:
        """Create a fresh bucket and return its name."""
        name = f"lake-{uuid.uuid4().hex[:12]}"
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_bucket(Bucket=name)
        return name


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_listening(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto server did not listen on 127.0.0.1:{port} within {timeout} s")


@contextmanager
def running_s3(enforce_auth: bool = False) -> Iterator[S3Server]:
    """Start moto's server in a child process on a free port; stop it on exit.

    enforce_auth: moto checks every request's access key, signature and IAM policy after the
    first AUTH_FREE_CALLS (INITIAL_NO_AUTH_ACTION_COUNT), which `iam_access_key` spends."""
    port = _free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    env = dict(os.environ)
    if enforce_auth:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(AUTH_FREE_CALLS)
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )
    try:
        _wait_until_listening(port, process)
        yield S3Server(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


def iam_access_key(server: S3Server) -> tuple[str, str]:
    """On a server started with enforce_auth: an IAM user allowed everything; its key pair.

    Spends the server's AUTH_FREE_CALLS unauthenticated calls; from then on only this pair
    is accepted (a wrong key id is InvalidAccessKeyId, a wrong secret SignatureDoesNotMatch)."""
    iam = boto3.client(
        "iam",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
    )
    iam.create_user(UserName="finops")
    key = iam.create_access_key(UserName="finops")["AccessKey"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}
    policy["Statement"][0]["Resource"] = "*"
    iam.put_user_policy(UserName="finops", PolicyName="all", PolicyDocument=json.dumps(policy))
    return key["AccessKeyId"], key["SecretAccessKey"]
