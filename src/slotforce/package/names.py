"""Shapes of Salesforce API names, shared by the object and Flow models."""

import re

# Start with a letter; letters, digits and single underscores; no trailing underscore.
_NAME = r"[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)"
CUSTOM_NAME = re.compile(rf"^{_NAME}__c$")
DEVELOPER_NAME = re.compile(rf"^{_NAME}$")
