"""The slotforce Salesforce package: a Python model rendered to SFDX source and checked against the XSD.

Public API: `build(out_dir, extensions=None) -> BuildReport`, `validate(path) -> list[Problem]`,
`mdapi_zip(source)` / `deploy(sf, source)` (force-app as a Metadata API zip, deployed),
`render(package) -> {relative path: xml}`, `definition.slotforce_package(extensions=None)`,
`project_extensions(root=None)` (the project's extensions.yml) and `drift(root)` (force-app vs a fresh build).
Imports nothing of the engine (sync, sources, store, service, localorg).
"""

from slotforce.package.build import BuildReport, build, validate
from slotforce.package.drift import Drift, drift
from slotforce.package.errors import DefinitionError, PackageError, SchemaError
from slotforce.package.extensions_path import project_extensions
from slotforce.package.mdapi import deploy, mdapi_zip
from slotforce.package.writer import render
from slotforce.package.xsd import Problem

__all__ = [
    "BuildReport", "DefinitionError", "Drift", "PackageError", "Problem", "SchemaError", "build", "deploy", "drift",
    "mdapi_zip", "project_extensions", "render", "validate",
]
