"""The Metadata API's REST route table (CumulusCI's `rest_deploy`): /metadata/deployRequest[/{id}].

Its SOAP face (/services/Soap/m/XX.X) is one endpoint, `responses.soap_endpoint`, which app.py serves.
"""

from __future__ import annotations

from ..rest.dispatch import route
from . import rest

ROUTES = (
    route(r"^metadata/deployRequest/?$", "POST", rest.deploy_request, "metadata"),
    route(r"^metadata/deployRequest/(?P<id>[A-Za-z0-9]{15,18})/?$", "GET", rest.deploy_status, "metadata"),
)
