"""Write the distribution artifacts of one package into the output folder.

Every artifact is made in memory first and then written file by file (each through a temporary
file and a rename), so a failure leaves no half-written file; an artifact whose bytes are
already there is left alone. The same package and options give the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sfn_mcp.bundle import docker, mcpb, registry
from sfn_mcp.bundle.package import Package, read_package
from sfn_mcp.diagnostics import CompileError, Diagnostic


@dataclass(frozen=True)
class BundleOptions:
    author: str | None = None
    base_image: str = docker.DEFAULT_BASE_IMAGE
    registry_name: str | None = None
    release_url: str | None = None
    image: str | None = None


@dataclass(frozen=True)
class Artifact:
    name: str
    data: bytes
    what: str


@dataclass
class BundleReport:
    package: Package
    out: Path
    written: list[Artifact] = field(default_factory=list)
    unchanged: list[Artifact] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    bundle_sha256: str = ""


def artifacts(package: Package, options: BundleOptions) -> tuple[list[Artifact], list[Diagnostic]]:
    """What ``sfn-mcp bundle`` writes for ``package``, and the warnings about it."""
    warnings: list[Diagnostic] = []
    base_image = docker.check_base_image(options.base_image)
    name = options.registry_name and registry.check_registry_name(options.registry_name)
    url = options.release_url and registry.check_release_url(options.release_url)
    image = options.image and registry.check_image(options.image)
    author = (options.author or "").strip() or f"{package.server} maintainers"

    manifest_json = mcpb.manifest_text(package, author=author)
    bundle = mcpb.archive(package, manifest_json)
    bundle_file = mcpb.bundle_name(package)
    sha256 = hashlib.sha256(bundle).hexdigest()
    given = (("--registry-name", "name", name), ("--release-url", "download URL", url))
    missing = [(flag, field) for flag, field, value in given if not value]
    if missing:
        flags = " and ".join(flag for flag, _ in missing)
        fields = " and ".join(field for _, field in missing)
        warnings.append(
            Diagnostic(
                "warning",
                f"{registry.SERVER_JSON}: no {flags}, so its {fields} "
                f"{'hold' if len(missing) > 1 else 'holds'} the placeholder "
                f"{registry.PLACEHOLDER_OWNER}",
                hint="pass --registry-name io.github.<user>/<server> and --release-url <where "
                "the .mcpb is downloaded from> before publishing it with mcp-publisher",
            )
        )
    server_json = registry.server_json_text(
        package,
        registry_name=name or registry.placeholder_name(package),
        release_url=url or registry.placeholder_release_url(package),
        bundle_file=bundle_file,
        bundle_sha256=sha256,
        image=image or None,
    )
    dockerfile = docker.dockerfile(package, base_image=base_image, registry_name=name or None)
    return [
        Artifact(bundle_file, bundle, "MCPB bundle for Claude Desktop"),
        Artifact(docker.DOCKERFILE, dockerfile.encode("utf-8"), "image for the HTTP transport"),
        Artifact(docker.DOCKERIGNORE, docker.dockerignore().encode("utf-8"), "its ignore file"),
        Artifact(registry.SERVER_JSON, server_json.encode("utf-8"), "MCP Registry entry"),
    ], warnings


def _write(path: Path, data: bytes) -> None:
    fd, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(scratch, 0o644)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def bundle_package(folder: Path, out: Path | None, options: BundleOptions) -> BundleReport:
    """Read the package at ``folder`` and write its artifacts into ``out`` (default: ``dist/``
    beside the package)."""
    package = read_package(folder)
    built, warnings = artifacts(package, options)
    target = (out if out is not None else package.folder.parent / "dist").resolve()
    if target == package.folder or package.folder in target.parents:
        raise CompileError(
            f"--out {target} is inside the package {package.folder}, which would ship the "
            "artifacts inside themselves",
            hint="write them beside the package (the default, dist/) or anywhere else",
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CompileError(
            f"cannot create {target}: {exc.strerror or exc}", hint="choose another --out"
        ) from None
    report = BundleReport(package, target, warnings=warnings)
    report.bundle_sha256 = hashlib.sha256(built[0].data).hexdigest()
    for artifact in built:
        path = target / artifact.name
        if path.is_file() and path.read_bytes() == artifact.data:
            report.unchanged.append(artifact)
            continue
        try:
            _write(path, artifact.data)
        except OSError as exc:
            raise CompileError(
                f"cannot write {path}: {exc.strerror or exc}", hint="choose another --out"
            ) from None
        report.written.append(artifact)
    return report
