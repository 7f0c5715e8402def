"""The Kubernetes validating admission webhook: budget CloudEvents in, admission decisions out.

Run with `python -m finops_assets.admission --cert tls.crt --key tls.key --port 8443`.
"""
