"""Every HTML page the shell sends is set in French typography (kiosk.text.typography).

Done once, on the response, so every page gets it — the shell's own, the error pages, and the
pages other parts of the kiosk add through blueprints — without each template thinking about it.
"""

from __future__ import annotations

from flask import Flask, Response

from kiosk.text.typography import typeset_html


def typeset_response(response: Response) -> Response:
    if response.mimetype == "text/html" and not response.is_streamed and not response.direct_passthrough:
        body = response.get_data(as_text=True)
        done = typeset_html(body)
        if done != body:
            response.set_data(done)
    return response


def init_app(app: Flask) -> None:
    app.after_request(typeset_response)
