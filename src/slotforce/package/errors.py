"""Errors of the package generator: each says what is wrong, where, and what to do about it."""

from __future__ import annotations

from collections.abc import Sequence

from slotforce.package.xsd import Problem


class PackageError(Exception):
    """Base class: the package could not be built; nothing was written."""


class DefinitionError(PackageError):
    """A field, object or permission set definition breaks a Salesforce rule.

    `where` is a readable location: a component name (`Booking_Action__c.Status__c`) or, for admin
    extensions, `file.yml: objects.Contact.fields[0].length`.
    """

    def __init__(self, where: str, problem: str, fix: str = "") -> None:
        self.where = where
        self.problem = problem
        self.fix = fix
        super().__init__(f"{where}: {problem}" + (f" ({fix})" if fix else ""))


class SchemaError(PackageError):
    """Rendered metadata does not satisfy the Metadata API XSD."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(
            f"{len(self.problems)} generated file(s) break the Metadata API schema; nothing written:\n{lines}"
        )
