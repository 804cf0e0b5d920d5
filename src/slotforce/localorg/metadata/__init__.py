"""The local org's Metadata API: SOAP deploy of MDAPI zips (objects, fields, flows, permission sets,
layouts), all or nothing, and the flows it deploys registered with the flow runtime."""

from .models import DeployResult, MetadataService, attach
from .responses import soap_endpoint

__all__ = ["DeployResult", "MetadataService", "attach", "soap_endpoint"]
