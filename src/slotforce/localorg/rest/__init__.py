"""HTTP face of the local org: routes that translate REST calls into model calls and back.

The ASGI app is `rest.app.build_app`; importing this package does not build or import it, so the
route handlers and their table import without Starlette's app.
"""
