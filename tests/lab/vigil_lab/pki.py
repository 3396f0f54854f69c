"""Test certificates made with openssl's own CLI: a CA, and certificates it signs for DNS
names, as PEM files with keys of mode 0600 (vigil-l7 refuses keys others could read). For the
system tests and the demo; nothing here is for production use."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _openssl(directory: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)


def make_ca(directory: Path, days: int = 2) -> Path:
    """ca.pem (and ca.key) in `directory`."""
    _openssl(directory, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Vigil test CA",
             "-days", str(days))
    (directory / "ca.key").chmod(0o600)
    return directory / "ca.pem"


def issue(directory: Path, stem: str, name: str, days: int = 2) -> tuple[Path, Path]:
    """stem.pem (the certificate for DNS name `name`, then the CA's) and stem.key, signed by
    the CA make_ca left in `directory`."""
    _openssl(directory, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{stem}.key", "-out", f"{stem}.csr", "-subj", f"/CN={name}")
    (directory / f"{stem}.ext").write_text(f"subjectAltName=DNS:{name}\n")
    _openssl(directory, "x509", "-req", "-in", f"{stem}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", f"{stem}.pem", "-days", str(days), "-extfile",
             f"{stem}.ext")
    pem = directory / f"{stem}.pem"
    pem.write_text(pem.read_text() + (directory / "ca.pem").read_text())
    (directory / f"{stem}.key").chmod(0o600)
    return pem, directory / f"{stem}.key"
