"""The admin console: a second thin HTTP layer next to ``twofold.api``, at ``/console`` (docs/console.md).

Server-rendered pages (Jinja2, autoescaped) over the same services the management API calls; it never
touches storage.  Every asset is served from ``static/``; the pages run no inline script.
"""
