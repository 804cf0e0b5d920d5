"""SOQL for the local org: a lark grammar, a compiler to SQLite, and Salesforce-shaped results."""

from slotforce.localorg.soql.parser import parse
