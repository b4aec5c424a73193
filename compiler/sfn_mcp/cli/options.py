"""Command-line options made from the settings' declarations, and the settings they give."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from sfn_mcp.cli import report
from sfn_mcp.diagnostics import CompileError, Diagnostic
from sfn_mcp.settings import Settings, load_packages, load_settings
from sfn_mcp.settings.declared import PACKAGE_SETTINGS, SWITCH, Setting

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file with the settings (default: ./pyproject.toml [tool.sfn-mcp]).",
)


def _option(setting: Setting) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    names = [n for n in (setting.short, setting.flag) if n]
    extra = f" [env: {setting.env}]" if setting.env else ""
    number = isinstance(setting.default, int | float) and not isinstance(setting.default, bool)
    default = f" (default {setting.default:g})" if number else ""
    text = f"{setting.help[:1].upper()}{setting.help[1:]}{default}.{extra}"
    if setting.kind is SWITCH:  # a flag: given means true, absent leaves the file's value
        return click.option(*names, setting.field, is_flag=True, default=None, help=text)
    return click.option(
        *names, setting.field, multiple=setting.multiple, metavar=setting.metavar, help=text
    )


def source_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say which workflows to compile and how: shared by generate and check."""
    for setting in reversed([s for s in PACKAGE_SETTINGS.values() if s.flag]):
        command = _option(setting)(command)
    return CONFIG_OPTION(command)


def given_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The settings the flags give, by key (flags left out are absent)."""
    given = {}
    for setting in PACKAGE_SETTINGS.values():
        value = options.get(setting.field)
        if setting.flag and setting.in_file and value not in (None, ()):
            given[setting.key] = list(value) if setting.multiple else value
    tags = given.pop("tag", [])
    if len(tags) > 1:
        raise CompileError(
            f"one --tag filter at a time (got {len(tags)}: {', '.join(tags)})",
            hint="select by one tag, and narrow further with --prefix or --state-machine",
        )
    if tags:
        given["tag"] = tags[0]
    return given


def selects(options: dict[str, Any]) -> bool:
    """Whether the flags say which machines and package are meant (without a configuration)."""
    given = given_settings(options)
    return any(key in given for key in ("prefix", "state-machines", "tag", "name"))


def settings_from(options: dict[str, Any], *, ignore_file: bool = False) -> Settings:
    """Settings from the flags actually given (over the file, over the anchor's variables);
    ``ignore_file``: the flags and defaults only."""
    settings = load_settings(
        given_settings(options), config_path=options.get("config_path"), search=not ignore_file
    )
    report.diagnostics(Diagnostic("note", note) for note in settings.notes)
    return settings


def packages_from(options: dict[str, Any], *, ignore_file: bool = False) -> list[Settings]:
    """The settings of every package the run covers: the configuration's package tables (or
    the ``--package`` ones), or its one package, with the flags over them; notes said once."""
    packages = load_packages(
        given_settings(options),
        config_path=options.get("config_path"),
        search=not ignore_file,
        only=tuple(dict.fromkeys(options.get("package") or ())),
    )
    notes = dict.fromkeys(note for settings in packages for note in settings.notes)
    report.diagnostics(Diagnostic("note", note) for note in notes)
    return packages


def several(packages: list[Settings]) -> bool:
    """Whether the run is one of package tables (their output names each package)."""
    return any(settings.package is not None for settings in packages)
